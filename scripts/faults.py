"""The fault suite's scenarios (see scripts/faults, which sets up the cluster and the environment).

Every scenario prints one `faults scenario=... key=value ...` line of figures and raises
AssertionError when a guarantee does not hold; the process exits non-zero on the first failure.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

BIN = os.environ["FAULTS_BIN"]
PORT = int(os.environ["FAULTS_PORT"])
PGDATA = os.environ["FAULTS_PGDATA"]
PGBIN = os.environ["FAULTS_PGBIN"]
PGCTL = os.environ["FAULTS_PGCTL"]
CLUSTER = os.environ["FAULTS_CLUSTER"]
LOGS = os.environ["FAULTS_LOGS"]
AS_PG = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def log(message):
    print(f"\033[1;34m==>\033[0m faults: {message}", file=sys.stderr, flush=True)


def url(db):
    return f"postgresql://postgres@127.0.0.1:{PORT}/{db}?sslmode=disable"


def psql(db, sql):
    out = subprocess.run(AS_PG + [f"{PGBIN}/psql", "-X", "-q", "-tA", "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres",
                                  "-d", db, "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def crm(db, *args):
    env = dict(os.environ, DATABASE_URL=url(db), LOG_LEVEL="warning")
    return subprocess.run([f"{BIN}/crm", *args], env=env, check=True, capture_output=True, text=True).stdout.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(name):
    subprocess.run(AS_PG + [f"{PGBIN}/dropdb", "--if-exists", "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres", name],
                   check=True, capture_output=True)
    subprocess.run(AS_PG + [f"{PGBIN}/createdb", "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres", name], check=True,
                   capture_output=True)
    crm(name, "migrate")


def tenant(db, role="admin"):
    group = crm(db, "groups", "create", "--name", "故障演练集团")
    dealer = crm(db, "dealers", "create", "--group", group, "--name", "故障演练4S店")
    return dealer, crm(db, "keys", "create", "--dealer", dealer, "--role", role, "--name", "faults")


class Process:
    """A `crm` (or crm-bench) process with its log in the logs folder."""

    def __init__(self, name, args, env):
        self.name = name
        self.log = open(os.path.join(LOGS, f"{name}.log"), "w")
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def errors(self):
        with open(os.path.join(LOGS, f"{self.name}.log")) as text:
            return [line for line in text if " critical " in line or "unexpected error" in line]


def serve(name, db, **settings):
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url(db), HOST="127.0.0.1", PORT=str(port), LOG_LEVEL="warning",
               DB_CONNECT_TIMEOUT_S="2", DB_ACQUIRE_TIMEOUT_MS="1000")
    env.update({key: str(value) for key, value in settings.items()})
    process = Process(name, [f"{BIN}/crm", "serve"], env)
    process.port = port
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if request(port, "GET", "/readyz")[0] == 200:
                return process
        except OSError:
            pass
        time.sleep(0.1)
    process.stop()
    raise AssertionError(f"{name} did not become ready (see {LOGS}/{name}.log)")


def request(port, method, path, key=None, body=None, headers=None, timeout=10):
    """(status, headers, parsed JSON or None); raises OSError when the connection fails."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        sent = dict(headers or {})
        if key:
            sent["Authorization"] = f"Bearer {key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        raw = response.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return response.status, {k.lower(): v for k, v in response.getheaders()}, parsed
    finally:
        connection.close()


def pg_ready(seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if subprocess.run(AS_PG + [f"{PGBIN}/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(PORT)]).returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError("PostgreSQL did not accept connections again")


def pg_restart():
    subprocess.run([PGCTL, CLUSTER, "restart", str(PORT)], check=True, capture_output=True)
    pg_ready()


def pg_kill_and_start():
    """SIGKILL to the postmaster (its backends exit when they notice), then start it again: crash
    recovery replays the WAL. The old postmaster must be gone (reaped, not only dead: `pg_ctl
    status` takes a zombie for a running server) and its backends must have let go of the shared
    memory before a new one starts, so starting is retried until the server answers."""
    with open(os.path.join(PGDATA, "postmaster.pid")) as pidfile:
        postmaster = int(pidfile.readline())
    os.kill(postmaster, signal.SIGKILL)
    deadline = time.time() + 30
    while os.path.exists(f"/proc/{postmaster}"):
        if time.time() > deadline:
            raise AssertionError(f"the killed postmaster {postmaster} was never reaped")
        time.sleep(0.05)
    while True:
        time.sleep(0.3)
        if subprocess.run([PGCTL, CLUSTER, "start", str(PORT)], capture_output=True).returncode == 0:
            try:
                pg_ready(10)
                return
            except AssertionError:
                pass
        if time.time() > deadline:
            raise AssertionError("PostgreSQL did not start again after SIGKILL")


def figures(scenario, **values):
    print("faults scenario=" + scenario + " " + " ".join(f"{k}={v}" for k, v in values.items()), flush=True)


# MARK: writers


def writers():
    db = "faults_writers"
    fresh_database(db)
    _, key = tenant(db)
    server = serve("writers-serve", db, DB_POOL_SIZE=4, IDEMPOTENCY_LEASE_S=3)
    stop_new = threading.Event()
    lock = threading.Lock()
    results = []  # one dict per key
    counters = {"attempts": 0, "unavailable": 0, "connection_errors": 0, "in_progress": 0, "server_errors": 0}
    database_back = [0.0]

    def writer(index):
        number = 0
        while not stop_new.is_set():
            number += 1
            phone = f"1390{index:02d}{number:05d}"
            idempotency = str(uuid.uuid4())
            outcome = {"key": idempotency, "phone": "+86" + phone, "acked": None, "duplicate": False, "stuck": False,
                       "in_progress_after_back": 0.0}
            deadline = time.time() + 60
            while True:
                if time.time() > deadline:
                    outcome["stuck"] = True
                    break
                with lock:
                    counters["attempts"] += 1
                try:
                    status, _, body = request(server.port, "POST", "/v1/customers", key,
                                              {"kind": "person", "name": f"故障客户{index}-{number}", "phone": phone},
                                              {"Idempotency-Key": idempotency}, timeout=5)
                except OSError:
                    with lock:
                        counters["connection_errors"] += 1
                    time.sleep(0.1)
                    continue
                if status == 201:
                    outcome["acked"] = body["id"]
                    break
                if status == 409 and body and body.get("type", "").endswith("/idempotency-in-progress"):
                    with lock:
                        counters["in_progress"] += 1
                        if database_back[0]:
                            outcome["in_progress_after_back"] = max(outcome["in_progress_after_back"], time.time() - database_back[0])
                    time.sleep(0.1)
                    continue
                if status == 409:
                    outcome["duplicate"] = True  # the write done twice in effect
                    break
                if status == 503:
                    with lock:
                        counters["unavailable"] += 1
                    time.sleep(0.1)
                    continue
                if status >= 500:
                    with lock:
                        counters["server_errors"] += 1
                    time.sleep(0.1)
                    continue
                raise AssertionError(f"writer {index}: unexpected {status}: {body}")
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(3)
    log("writers: restarting PostgreSQL (fast shutdown)")
    pg_restart()
    time.sleep(4)
    log("writers: killing PostgreSQL with SIGKILL")
    pg_kill_and_start()
    database_back[0] = time.time()
    time.sleep(4)
    stop_new.set()
    for thread in threads:
        thread.join()
    server.stop()

    acked = [r for r in results if r["acked"]]
    stored = dict(line.split("|") for line in psql(db, "SELECT id, phone FROM customers").splitlines() if line)
    lost = [r for r in acked if stored.get(r["acked"]) != r["phone"]]
    phones = [r["phone"] for r in results]
    extra = len(stored) - len(acked)
    stuck = [r for r in results if r["stuck"]]
    duplicates = [r for r in results if r["duplicate"]]
    late = max([r["in_progress_after_back"] for r in results] or [0])
    figures("writers", keys=len(results), acknowledged=len(acked), stored=len(stored), lost=len(lost), extra=extra,
            stuck_keys=len(stuck), duplicates=len(duplicates), responses_500=counters["server_errors"],
            responses_503=counters["unavailable"], connection_errors=counters["connection_errors"],
            in_progress_409=counters["in_progress"], longest_in_progress_after_recovery_s=f"{late:.2f}",
            attempts=counters["attempts"])
    assert len(results) > 100, "too few writes to mean anything"
    assert not lost, f"acknowledged writes lost: {lost[:3]}"
    assert extra == 0 and len(set(phones)) == len(phones), f"{extra} customers stored without an acknowledgement"
    assert not stuck, f"keys stuck: {stuck[:3]}"
    assert not duplicates, f"writes done twice (a retry with the same key got a duplicate): {duplicates[:3]}"
    assert counters["server_errors"] == 0, "responses 500"
    assert not server.errors(), f"the server logged faults: {server.errors()[:3]}"


# MARK: queue


def queue():
    db = "faults_queue"
    fresh_database(db)
    jobs = 3000
    psql(db, "CREATE TABLE fault_effects (job_id bigint PRIMARY KEY, runs integer NOT NULL DEFAULT 1);"
             "CREATE TABLE fault_ticks (period bigint PRIMARY KEY, runs integer NOT NULL DEFAULT 1);"
             f"INSERT INTO jobs (kind, args) SELECT 'bench.effect', '{{}}' FROM generate_series(1, {jobs})")
    env = dict(os.environ)
    workers = [Process(f"queue-worker-{i}", [f"{BIN}/crm-bench", "queue-worker", "--url", url(db), "--id", f"w{i}",
                                             "--concurrency", "4", "--lease-seconds", "3", "--effects",
                                             "--tick-seconds", "1"], env) for i in (1, 2)]
    started = time.time()
    time.sleep(1.0)
    log("queue: restarting PostgreSQL (fast shutdown)")
    pg_restart()
    time.sleep(1.5)
    log("queue: killing PostgreSQL with SIGKILL")
    pg_kill_and_start()
    deadline = time.time() + 60
    done = 0
    while time.time() < deadline:
        try:
            done = int(psql(db, "SELECT count(*) FROM jobs WHERE kind = 'bench.effect' AND state = 'completed'"))
        except subprocess.CalledProcessError:
            done = 0
        if done == jobs:
            break
        time.sleep(0.5)
    time.sleep(2.5)  # a few more ticks after the crash
    for worker in workers:
        worker.stop()
    elapsed = time.time() - started
    states = psql(db, "SELECT state || ':' || count(*) FROM jobs WHERE kind = 'bench.effect' GROUP BY state ORDER BY 1")
    effects, reruns = map(int, psql(db, "SELECT count(*), coalesce(sum(runs - 1), 0) FROM fault_effects").split("|"))
    periods = [int(p) for p in psql(db, "SELECT period FROM fault_ticks ORDER BY period").split()]
    tick_jobs = int(psql(db, "SELECT count(*) FROM jobs WHERE kind = 'bench.tick'"))
    gaps = [b for a, b in zip(periods, periods[1:]) if b - a != 1]
    tick_reruns = int(psql(db, "SELECT coalesce(sum(runs - 1), 0) FROM fault_ticks"))
    figures("queue", jobs=jobs, completed=done, states=states.replace("\n", ","), effects=effects, effect_reruns=reruns,
            periods=len(periods), period_gaps=len(gaps), tick_jobs=tick_jobs, tick_reruns=tick_reruns,
            seconds=f"{elapsed:.1f}")
    assert done == jobs, f"jobs not completed: {states}"
    assert effects == jobs, f"{jobs - effects} jobs completed without their effect"
    assert len(periods) >= 5, "the periodic job did not run"
    assert not gaps, f"periods skipped after {gaps[:3]}"
    assert tick_jobs == len(periods), f"{tick_jobs} tick jobs for {len(periods)} periods: a period enqueued twice"


# MARK: access


def access():
    db = "faults_access"
    fresh_database(db)
    dealer, admin = tenant(db)
    first = serve("access-serve-1", db)
    second = serve("access-serve-2", db)
    worker = Process("access-work", [f"{BIN}/crm", "work"], dict(os.environ, DATABASE_URL=url(db), HOST="127.0.0.1",
                                                                  PORT=str(free_port()), LOG_LEVEL="warning"))
    try:
        status, _, created = request(first.port, "POST", "/v1/api-keys", admin, {"name": "前台", "role": "sales"})
        assert status == 201, created
        revocable = created["secret"]
        status, _, staff = request(first.port, "POST", "/v1/staff", admin, {"name": "顾问甲", "function": "sales"})
        assert status == 201, staff
        status, _, tied = request(first.port, "POST", "/v1/api-keys", admin,
                                  {"name": "顾问甲的钥匙", "role": "sales", "staff_id": staff["id"]})
        assert status == 201, tied
        deactivatable = tied["secret"]
        for server in (first, second):
            for key in (revocable, deactivatable):
                assert request(server.port, "GET", "/v1/customers", key)[0] == 200

        def refused_within(server, key, seconds):
            start = time.time()
            while time.time() - start < seconds:
                if request(server.port, "GET", "/v1/customers", key)[0] == 401:
                    return time.time() - start
                time.sleep(0.02)
            return None

        status = request(first.port, "POST", f"/v1/api-keys/{created['key']['id']}/revocation", admin)[0]
        assert status == 200
        here = refused_within(first, revocable, 1)
        there = refused_within(second, revocable, 2)
        # Every LISTEN connection drops; the deactivation is announced while they are away.
        dropped = psql(db, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND query ILIKE 'LISTEN%'")
        status = request(first.port, "PATCH", f"/v1/staff/{staff['id']}", admin, {"active": False},
                         {"If-Match": '"1"'})[0]
        assert status == 200
        deactivated_here = refused_within(first, deactivatable, 1)
        deactivated_there = refused_within(second, deactivatable, 3)
        figures("access", servers=2, workers=1, revoked_here_ms=ms(here), revoked_there_ms=ms(there),
                listen_connections_dropped=dropped, deactivated_here_ms=ms(deactivated_here),
                deactivated_there_after_drop_ms=ms(deactivated_there))
        assert here is not None and here < 0.05, "the revoking server still accepts the key"
        assert there is not None and there < 1, "the other server accepts a revoked key for more than a second"
        assert int(dropped) >= 3, f"only {dropped} LISTEN connections dropped (expected both servers' and the worker's)"
        assert deactivated_here is not None and deactivated_here < 0.05
        assert deactivated_there is not None and deactivated_there < 1, \
            "a deactivation announced while the LISTEN connection was down was not picked up within a second"
    finally:
        for process in (first, second, worker):
            process.stop()
    assert not first.errors() and not second.errors()


def ms(seconds):
    return "never" if seconds is None else f"{seconds * 1000:.0f}"


# MARK: shedding


def shedding():
    db = "faults_shed"
    fresh_database(db)
    dealer, key = tenant(db)
    psql(db, f"INSERT INTO customers (dealer_id, id, kind, name) SELECT '{dealer}', gen_random_uuid(), 'person', "
             f"'客户' || i FROM generate_series(1, 100) i")
    ids = psql(db, "SELECT id FROM customers").split()
    server = serve("shedding-serve", db, DB_POOL_SIZE=4, DB_POOL_MIN=4, DB_POOL_MAX_WAITERS=8, DB_ACQUIRE_TIMEOUT_MS=2000,
                   DB_STATEMENT_TIMEOUT_MS=6000)
    for customer in ids[:20]:
        assert request(server.port, "GET", f"/v1/customers/{customer}", key)[0] == 200
    rss_before = server.rss_kib()
    locker = subprocess.Popen(AS_PG + [f"{PGBIN}/psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres",
                                       "-d", db, "-c", "BEGIN; LOCK TABLE customers IN ACCESS EXCLUSIVE MODE; "
                                                       "SELECT pg_sleep(4); COMMIT;"], stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    lock = threading.Lock()
    outcomes = []  # (status, seconds, retry_after)
    peak = [rss_before]
    stop = threading.Event()

    def client(index):
        n = index
        while not stop.is_set():
            start = time.time()
            try:
                status, headers, _ = request(server.port, "GET", f"/v1/customers/{ids[n % len(ids)]}", key, timeout=15)
            except OSError:
                status, headers = -1, {}
            with lock:
                outcomes.append((status, time.time() - start, headers.get("retry-after")))
            n += 64
            if status == 503:
                time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(64)]
    for thread in threads:
        thread.start()
    deadline = time.time() + 3
    while time.time() < deadline:
        peak[0] = max(peak[0], server.rss_kib())
        time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join()
    locker.wait()
    during = list(outcomes)
    # Back to normal, no restart.
    time.sleep(0.5)
    recovered = [request(server.port, "GET", f"/v1/customers/{customer}", key)[0] for customer in ids[:20]]
    rss_after = server.rss_kib()
    server.stop()
    shed = [o for o in during if o[0] == 503]
    fast = [o for o in shed if o[1] < 0.5]
    without_retry_after = [o for o in shed if not o[2]]
    errors = [o for o in during if o[0] >= 500 and o[0] != 503 or o[0] == -1]
    figures("shedding", requests=len(during), ok=sum(1 for o in during if o[0] == 200), shed_503=len(shed),
            shed_within_500ms=len(fast), without_retry_after=len(without_retry_after), errors=len(errors),
            rss_before_mib=f"{rss_before / 1024:.1f}", rss_peak_mib=f"{peak[0] / 1024:.1f}",
            rss_after_mib=f"{rss_after / 1024:.1f}", recovered_ok=sum(1 for s in recovered if s == 200))
    assert shed and fast, "nothing was shed while the database was stuck"
    assert not without_retry_after, "a 503 without Retry-After"
    assert not errors, f"errors other than 503: {errors[:3]}"
    assert all(s == 200 for s in recovered), f"not recovered: {recovered}"
    assert peak[0] - rss_before < 64 * 1024, "memory grew by more than 64 MiB under the stuck database"


SCENARIOS = {"writers": writers, "queue": queue, "access": access, "shedding": shedding}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(SCENARIOS)
    started = time.time()
    for name in chosen:
        log(f"scenario {name}")
        try:
            SCENARIOS[name]()
        except AssertionError as failure:
            print(f"faults scenario={name} FAILED: {failure}", flush=True)
            print(f"(process logs in {LOGS})", file=sys.stderr)
            sys.exit(1)
    log(f"every scenario held ({time.time() - started:.0f} s)")
