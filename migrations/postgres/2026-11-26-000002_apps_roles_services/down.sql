DROP TABLE apps;
DROP TABLE roles;
DROP TABLE services;
