DROP TABLE credential_epochs;
