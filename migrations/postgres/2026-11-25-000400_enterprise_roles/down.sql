DROP TABLE enterprise_authorizations;
DROP TABLE enterprise_role_members;
DROP TABLE enterprise_roles;
