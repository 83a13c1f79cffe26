"""Common Ground: Professional Practice Committees with access-to-care evidence."""

import os

# One BLAS thread per process. The web server, the task worker and test workers run side by
# side on few cores, and OpenBLAS's idle threads spin: two processes, each with a thread per
# core, took 27 times as long over the suppression audit's small matrices as with one thread
# each (272 s against 10 s). Alone, one thread is as fast. Read when numpy loads, which is
# after this; a value set in the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
