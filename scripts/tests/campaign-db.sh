# shellcheck shell=bash
# Helpers for the scheduler tests (sourced), in python3 (which
# scripts/setup.sh installs) so no sqlite3 CLI is needed:
#   db_query DB SQL                       prints the rows, tab-separated
#   db_wait_for DB SECONDS SQL EXPECTED   polls every 0.1 s until the rows,
#                                         space-joined, equal EXPECTED; fails
#                                         after SECONDS
#   pipeline_field FILE KEY...            prints a field of a pipeline file

db_query() {
    python3 - "$1" "$2" <<'EOF'
import sqlite3, sys
connection = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=60)
for row in connection.execute(sys.argv[2]):
    print("\t".join("" if value is None else str(value) for value in row))
EOF
}

db_wait_for() {
    python3 - "$@" <<'EOF'
import sqlite3, sys, time
path, seconds, sql, expected = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
deadline = time.time() + seconds
while time.time() < deadline:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
        rows = connection.execute(sql).fetchall()
        connection.close()
        if " ".join(" ".join(str(value) for value in row) for row in rows) == expected:
            sys.exit(0)
    except sqlite3.Error:
        pass  # not created yet, or busy
    time.sleep(0.1)
sys.exit(1)
EOF
}

pipeline_field() {
    python3 - "$@" <<'EOF'
import json, sys
value = json.load(open(sys.argv[1]))
for key in sys.argv[2:]:
    value = value[key]
print(value)
EOF
}
