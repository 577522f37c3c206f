DROP TABLE api_sessions;
