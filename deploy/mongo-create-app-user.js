// Run once by the mongo image's entrypoint, on an empty data volume, as the root user it has
// just created (MONGO_INITDB_ROOT_*). The services log in as this user instead of root: it can
// read and write the survey database and the shared rate-limit counts, nothing else.
db.getSiblingDB("admin").createUser({
  user: process.env.MONGO_APP_USER,
  pwd: process.env.MONGO_APP_PASSWORD,
  roles: [{ role: "readWrite", db: "survey" }, { role: "readWrite", db: "limits" }],
});
