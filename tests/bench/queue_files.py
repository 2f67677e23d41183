"""What the benchmark drivers (smtp_measure.py, relay_measure.py) count in a mail queue."""

import os


def queued(dirs):
    """Queue files still waiting under `dirs`. Empty files are not counted: Postern's smtpd
    keeps a few empty entries created ahead in queue/incoming (smtpd/queue_file_stock.h)."""
    n = 0
    for q in dirs:
        for root, _, files in os.walk(q):
            for f in files:
                try:
                    n += os.path.getsize(os.path.join(root, f)) > 0
                except FileNotFoundError:
                    pass
    return n
