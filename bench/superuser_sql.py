"""One SQL statement through `psql` as the cluster superuser, over a Unix socket.

Shared by the benchmark (`common.py`) and the reliability suite, which runs its own
throwaway cluster; importing this module changes nothing in the environment.
"""

import os
import subprocess
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def psql(sock: Path, port: str | int, database: str, sql: str) -> str:
    """Run `sql` in `database`; return psql's unaligned output, stripped; raise with stderr."""
    done = subprocess.run(
        [
            *(str(PG_BIN / "psql"), "-h", str(sock), "-p", str(port), "-U", "postgres"),
            *("-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()
