"""Fill the credentialmate base tables with realistic rows, for lock and timing work.

    python examples/credentialmate/fill.py --database-url URL --providers 100000

Sizes follow the providers count: 2 licenses and 1 coordinator action per
provider, one user per 50 providers, one organization per 1,000. The database
must be at 20260115_0200 or later. Rows are generated server-side, so a million
providers take seconds, not minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import psycopg
from sqlalchemy.engine import make_url

FILL_SQL = """
INSERT INTO organizations (name, slug)
SELECT 'Organization ' || g, 'org-' || g FROM generate_series(1, %(orgs)s) g;

INSERT INTO users (organization_id, email, full_name, role)
SELECT 1 + (g %% %(orgs)s), 'user' || g || '@example.org', 'Coordinator ' || g,
       CASE WHEN g %% 10 = 0 THEN 'admin' ELSE 'coordinator' END
  FROM generate_series(1, %(users)s) g;

INSERT INTO providers (organization_id, npi, first_name, last_name, specialty, email, status)
SELECT 1 + (g %% %(orgs)s), lpad(g::text, 10, '0'),
       (ARRAY['Ana','Ben','Chen','Dana','Eli','Fatima','Gus','Hana'])[1 + g %% 8],
       (ARRAY['Garcia','Smith','Nguyen','Okafor','Rossi','Kowalski','Haddad'])[1 + g %% 7] || g,
       (ARRAY['Cardiology','Family Medicine','Pediatrics','Radiology','Psychiatry'])[1 + g %% 5],
       'provider' || g || '@clinic.example', CASE WHEN g %% 20 = 0 THEN 'inactive' ELSE 'active' END
  FROM generate_series(1, %(providers)s) g;

INSERT INTO licenses (provider_id, state, license_number, license_type, issued_on, expires_on, status)
SELECT 1 + (g %% %(providers)s), (ARRAY['CA','NY','TX','FL','OH','WA'])[1 + g %% 6], 'L-' || g,
       CASE WHEN g %% 2 = 0 THEN 'MD' ELSE 'DEA' END,
       DATE '2020-01-01' + (g %% 1500), DATE '2026-01-01' + (g %% 900), 'active'
  FROM generate_series(1, %(licenses)s) g;

INSERT INTO coordinator_actions (provider_id, coordinator_user_id, action_type, details)
SELECT 1 + (g %% %(providers)s), 1 + (g %% %(users)s),
       (ARRAY['note_added','document_requested','license_verified','status_changed'])[1 + g %% 4]
         ::coordinator_action_type,
       jsonb_build_object('note', 'action ' || g)
  FROM generate_series(1, %(actions)s) g;

ANALYZE organizations, users, providers, licenses, coordinator_actions;
"""


def sizes(providers: int) -> dict[str, int]:
    return {
        "providers": providers,
        "orgs": max(3, providers // 1000),
        "users": max(5, providers // 50),
        "licenses": providers * 2,
        "actions": providers,
    }


def fill(conninfo: dict[str, object], providers: int) -> dict[str, int]:
    counts = sizes(providers)
    # Several statements in one call need client-side parameter binding.
    with psycopg.connect(**conninfo, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:  # type: ignore[arg-type]
        with conn.transaction():
            conn.execute(FILL_SQL, counts)
    return counts


def conninfo_from_url(url: str) -> dict[str, object]:
    parsed = make_url(url)
    info: dict[str, object] = {"dbname": parsed.database}
    for key, value in (("host", parsed.host), ("port", parsed.port), ("user", parsed.username),
                       ("password", parsed.password)):
        if value:
            info[key] = value
    info.update({k: (v[-1] if isinstance(v, tuple) else v) for k, v in parsed.query.items()})
    return info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--providers", type=int, default=10_000)
    args = parser.parse_args()
    if not args.database_url:
        print("fill.py: pass --database-url or set DATABASE_URL", file=sys.stderr)
        return 2
    started = time.monotonic()
    counts = fill(conninfo_from_url(args.database_url), args.providers)
    print(
        f"filled {counts['providers']} providers, {counts['licenses']} licenses, {counts['users']} users, "
        f"{counts['actions']} coordinator actions in {time.monotonic() - started:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
