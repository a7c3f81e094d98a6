"""The JSON schemas of the control API's answers, named by its declarations (``declared.py``)."""

from __future__ import annotations

from typing import Any

OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
_SNAPSHOT = {
    "type": "object",
    "description": "the flat answer a client of GET /api/v1/live-calls gets",
    "additionalProperties": True,
}


def _answer(record: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [record, "snapshot"],
        "properties": {record: OBJECT, "snapshot": _SNAPSHOT},
    }


CALL = _answer("call")
CALL_LOG = _answer("call_log")


def rows(name: str) -> dict[str, Any]:
    """A listing of the world's rows, newest first, with the store's size."""
    return {
        "type": "object",
        "required": [name, "count"],
        "properties": {
            name: {"type": "array", "items": OBJECT},
            "count": {"type": "integer", "minimum": 0, "description": "how many the world holds"},
        },
    }


_IDS = {"type": "array", "items": {"type": "integer"}}
HEALTH: dict[str, Any] = {
    "type": "object",
    "required": ["service", "version", "live_calls", "call_logs"],
    "properties": {
        "service": {"const": "prosper-voice-mock"},
        "version": {"type": "string"},
        "live_calls": {"type": "integer"},
        "call_logs": {"type": "integer"},
        "world_version": {"type": "integer"},
        "simulation": {
            "type": "boolean",
            "description": "whether the world moves by itself (serve --simulate)",
        },
        "sample_ids": {
            "type": "object",
            "description": "A few ids of each store (the first rows of each), for clients that "
            "need known calls, such as the contract suite's read-only checks",
            "properties": {"live_calls": _IDS, "call_logs": _IDS},
        },
    },
}
SNAPSHOT: dict[str, Any] = {
    "type": "object",
    "required": ["snapshot"],
    "properties": {"snapshot": {"type": "string"}},
}
JOURNAL: dict[str, Any] = {
    "type": "object",
    "required": ["entries", "next_since", "more"],
    "properties": {
        "entries": {"type": "array", "items": OBJECT},
        "next_since": {"type": "integer", "description": "pass as since to read the next page"},
        "more": {"type": "boolean", "description": "whether entries remain after next_since"},
    },
}
CLOCK: dict[str, Any] = {
    "type": "object",
    "required": ["mode", "now"],
    "properties": {"mode": {"enum": ["system", "virtual"]}, "now": {"type": "string"}},
}
_STRINGS = {"type": "array", "items": {"type": "string"}}
RULES: dict[str, Any] = {
    "type": "object",
    "required": ["rules"],
    "properties": {
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["faults"],
                "properties": {
                    "faults": {
                        "description": "header grammar (docs/how-to/faults.md); answers list "
                        "each fault",
                        "anyOf": [
                            {"type": "string"},
                            {"type": "array", "items": {"type": "string"}},
                        ],
                    },
                    "probability": {"type": "number", "minimum": 0, "maximum": 1},
                    "match": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        }
    },
}
CAMPAIGNS: dict[str, Any] = {
    "type": "object",
    "required": ["campaigns"],
    "properties": {
        "campaigns": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "flow_id", "kind", "variables", "created_at"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "flow_id": {"type": "string"},
                    "kind": {"enum": ["patient", "payor", "provider"]},
                    "variables": _STRINGS,
                    "created_at": {"type": "string"},
                },
            },
        }
    },
}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
STUB: dict[str, Any] = {
    "type": "object",
    "required": ["id", "method", "path", "operation_id", "status", "times", "unchecked"],
    "properties": {
        "id": {"type": "string"},
        "method": {"type": "string"},
        "path": {"type": "string"},
        "operation_id": {"type": "string", "description": "the operation the path is of"},
        "status": {"type": "integer"},
        "body": {"description": "the answer's body (absent: none)"},
        "headers": _STRING_MAP,
        "query": _STRING_MAP,
        "request_body": {},
        "request_body_exact": {"type": "boolean"},
        "times": {"type": ["integer", "null"], "description": "null: until removed"},
        "after": {"type": "integer"},
        "delay": {"type": "number"},
        "unchecked": {"type": "boolean"},
        "seen": {"type": "integer", "description": "matching requests so far"},
        "answered": {"type": "integer", "description": "requests it answered so far"},
    },
}
STUBS: dict[str, Any] = {
    "type": "object",
    "required": ["stubs"],
    "properties": {"stubs": {"type": "array", "items": STUB}},
}
VERIFIED: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "count", "expected", "seqs", "near_misses"],
    "properties": {
        "ok": {"type": "boolean", "description": "whether the count is as expected"},
        "count": {"type": "integer", "description": "the journalled requests that match"},
        "expected": {"type": "string", "description": "e.g. 'exactly 3', 'at least 1'"},
        "seqs": {"type": "array", "items": {"type": "integer"}},
        "near_misses": {
            "type": "array",
            "description": "when not ok: the entries that differ in the fewest parts",
            "items": {
                "type": "object",
                "required": ["entry", "differences"],
                "properties": {
                    "entry": OBJECT,
                    "differences": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["part", "expected", "actual"],
                            "properties": {
                                "part": {
                                    "type": "string",
                                    "description": "method, path, query.NAME, header.NAME or body",
                                },
                                "expected": {},
                                "actual": {},
                            },
                        },
                    },
                },
            },
        },
    },
}


_HEADERS = {"type": "object", "additionalProperties": {"type": "string"}}
_TIME = {"type": "string", "format": "date-time"}
WEBHOOK: dict[str, Any] = {
    "type": "object",
    "required": ["campaign_id", "url", "headers", "max_attempts", "faults", "source"],
    "properties": {
        "campaign_id": {"type": "string"},
        "url": {"type": ["string", "null"], "description": "where its events go; null: nowhere"},
        "headers": {**_HEADERS, "description": "sent with each delivery"},
        "max_attempts": {"type": "integer", "minimum": 1},
        "faults": {"type": "string", "description": "faults of its deliveries; '': none"},
        "source": {
            "enum": ["campaign", "default", "none"],
            "description": "campaign: its own setting; default: serve --webhook-url; none",
        },
    },
}
_PAYLOAD = {
    "type": "object",
    "description": "exactly what is POSTed: upstream's six keys",
    "required": [
        "campaign_id", "call_log_id", "target_id", "attempt", "max_attempts",
        "next_attempt_scheduled",
    ],
    "properties": {
        "campaign_id": {"type": "string"},
        "call_log_id": {"type": "integer"},
        "target_id": {"type": "string"},
        "attempt": {"type": "integer", "minimum": 1},
        "max_attempts": {"type": "integer", "minimum": 1},
        "next_attempt_scheduled": {"type": ["string", "null"], "format": "date-time"},
    },
    "additionalProperties": False,
}  # fmt: skip
_SEND = {
    "type": "object",
    "required": ["at", "url", "ok", "status", "error"],
    "properties": {
        "at": {**_TIME, "description": "when the outcome was recorded (the mock's clock)"},
        "url": {"type": ["string", "null"]},
        "ok": {"type": "boolean", "description": "the receiver answered 2xx"},
        "status": {"type": ["integer", "null"], "description": "the receiver's status"},
        "error": {"type": ["string", "null"], "description": "why it failed"},
    },
}
WEBHOOK_EVENTS: dict[str, Any] = {
    "type": "object",
    "required": ["events", "count"],
    "properties": {
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "payload", "created_at", "state", "sends", "reruns"],
                "properties": {
                    "id": {"type": "integer"},
                    "payload": _PAYLOAD,
                    "created_at": {**_TIME, "description": "when the attempt ended"},
                    "state": {"enum": ["pending", "delivered", "failed"]},
                    "sends": {"type": "array", "items": _SEND},
                    "reruns": {"type": "integer", "description": "times rerun-failed resent it"},
                },
            },
        },
        "count": {"type": "integer", "minimum": 0, "description": "how many match"},
    },
}
