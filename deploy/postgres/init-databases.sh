#!/bin/sh
# Runs once, when the PostgreSQL volume is first created: one role per service, and
# separate databases so Temporal's schema and keycase's store never share tables.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE temporal LOGIN CREATEDB PASSWORD '${TEMPORAL_DB_PASSWORD}';
CREATE ROLE keycase LOGIN PASSWORD '${KEYCASE_DB_PASSWORD}';
CREATE DATABASE keycase OWNER keycase;
SQL
