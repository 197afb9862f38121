DROP TABLE fido2_credentials;
DROP TABLE oath_credentials;
DROP TABLE recovery_codes;
DROP INDEX credentials_one_recovery_code;
