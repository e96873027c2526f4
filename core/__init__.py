"""The foundation every other package stands on: configuration models, the store, the organisation tree,
redaction of secrets and password hashing. It imports nothing of the project's other packages."""
