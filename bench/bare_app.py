"""The baseline for the single-POST benchmark: a bare Flask endpoint that parses the same JSON
body and answers 201, under the same gunicorn settings as survey_api."""

from flask import Flask, request


def create_app():
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.post("/bare")
    def bare():
        body = request.get_json()
        return {"submission_id": body["submission_id"]}, 201

    return app
