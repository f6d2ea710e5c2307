"""A new SQLite file switches to WAL mode even while another process is writing to it.

The API and two workers start side by side on a new file. Switching its journal needs
the file to itself, and while another connection holds the write lock SQLite refuses at
once ("database is locked") instead of waiting: a worker once died of it at start.
"""

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

from store.sqlite import _use_wal


def test_wal_mode_waits_out_a_writer_on_the_new_file(tmp_path: Path) -> None:
    path = str(tmp_path / "keycase.db")
    with closing(sqlite3.connect(path)) as setup:
        setup.execute("CREATE TABLE t (x)")
        setup.commit()
    writer = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")  # holds the write lock for half a second
    committing = threading.Timer(0.5, lambda: writer.execute("COMMIT"))
    committing.start()
    try:
        _use_wal(path)
    finally:
        committing.join()
        writer.close()

    with closing(sqlite3.connect(path)) as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert check.execute("SELECT count(*) FROM t").fetchone()[0] == 1
