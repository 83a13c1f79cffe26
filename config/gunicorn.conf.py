"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py config.wsgi`."""

import multiprocessing
import os

bind = os.environ.get("COMMONGROUND_BIND", "127.0.0.1:8000")
# Sync workers: requests are short and the database is the bottleneck on small hosts.
workers = int(os.environ.get("WEB_CONCURRENCY", str(multiprocessing.cpu_count() * 2)))
timeout = 30
graceful_timeout = 30
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
# No request bodies or query strings in access logs: they may carry search terms.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss rid=%({x-request-id}o)s'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
