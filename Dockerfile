# One image for the three services; docker-compose.yml picks the command per service.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 BIND_HOST=0.0.0.0
WORKDIR /app
COPY pyproject.toml README.md Procfile ./
COPY shared shared
COPY survey_api survey_api
COPY scoring_service scoring_service
COPY pdf_service pdf_service
RUN pip install --no-cache-dir . && mkdir -p var && useradd --system app && chown app var
USER app
