"""Examples of the liveness and readiness answers."""

HEALTHY = {"status": "ok", "checks": {}}

READY = {
    "status": "ready",
    "checks": {
        "migrations_head": "0006_layer_feature_indexes",
        "database": "reachable",
        "migrations_current": "0006_layer_feature_indexes",
    },
}

NOT_READY = {
    "status": "not ready",
    "checks": {"migrations_head": "0006_layer_feature_indexes", "database": "unreachable"},
}
