#!/bin/sh
# Creates the namespace and keycase's search attributes (domain/ids.py SEARCH_ATTRIBUTES);
# idempotent, so it runs on every `docker-compose up`.
set -eu

ns="${TEMPORAL_NAMESPACE:-default}"
until temporal operator cluster health >/dev/null 2>&1; do echo "waiting for Temporal"; sleep 2; done

temporal operator namespace describe -n "$ns" >/dev/null 2>&1 \
    || temporal operator namespace create -n "$ns" --retention "${TEMPORAL_RETENTION:-30d}"

register() {
    temporal operator search-attribute create -n "$ns" \
        --name KeyId --name CaseId --name Exchange --name CaseStage --name Severity --name AssignedTo \
        --name RingId --name PendingApproval --type Keyword &&
        temporal operator search-attribute create -n "$ns" --name KycDeadline --type Datetime &&
        temporal operator search-attribute create -n "$ns" --name DetectorHits --name RingSize \
            --type Int
}

# The server may take a moment to see a new namespace; retry until the attributes stick.
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if register; then
        echo "search attributes registered in namespace $ns"
        exit 0
    fi
    echo "retrying search-attribute registration ($attempt)"
    sleep 3
done
exit 1
