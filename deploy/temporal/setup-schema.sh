#!/bin/sh
# Creates or upgrades Temporal's two PostgreSQL databases; safe to run on every start.
set -eu

export SQL_PASSWORD="$POSTGRES_PWD"
schema=/etc/temporal/schema/postgresql/v12
sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p 5432 "$@"; }

until nc -z "$POSTGRES_SEEDS" 5432; do echo "waiting for PostgreSQL"; sleep 1; done

for db in temporal temporal_visibility; do
    dir=temporal
    [ "$db" = temporal_visibility ] && dir=visibility
    sql --db "$db" create || true  # fails only when it already exists
    sql --db "$db" setup-schema -v 0.0
    sql --db "$db" update-schema -d "$schema/$dir/versioned"
done
echo "Temporal schema is up to date"
