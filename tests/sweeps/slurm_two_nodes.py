"""A two-node Slurm on one machine, for tests: two network namespaces joined by a veth pair (the "nodes"), one
`slurmd` per namespace (each in its own UTS namespace, so its hostname is its node name), one `slurmctld` in the
first namespace, one `munged` (a socket path, shared by both). Everything lives under one private directory with its
own slurm.conf (SLURM_CONF), munge socket and key: nothing of a Slurm already on the machine is read or touched.

    cluster = TwoNodeSlurm(tmp_dir).start()      # raises Unavailable(reason) where it cannot start
    cluster.run(["srun", "-N2", "hostname"])     # a client command in the first namespace, SLURM_CONF set
    cluster.stop()                               # daemons killed by pid, namespaces and pidfiles removed

Needs root, iproute2, unshare and Debian's slurm-wlm + munge (installed with apt-get when `install=True`)."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path


class Unavailable(RuntimeError):
    """The two-node Slurm cannot start here; the message says why."""


def _ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


class TwoNodeSlurm:
    SUBNET = "10.231.9"
    IFNAME = "vteth0"  # the veth end's name inside each node's namespace

    def __init__(self, root, install=True):
        self.root = Path(root)
        self.install = install
        tag = uuid.uuid4().hex[:6]
        # (namespace = node name, veth device, address); the node names are also the hostnames in their namespaces
        self.nodes = [(f"vt{tag}n1", f"vt{tag}v1", f"{self.SUBNET}.1"), (f"vt{tag}n2", f"vt{tag}v2", f"{self.SUBNET}.2")]
        self.conf = self.root / "slurm.conf"
        # munged runs as user munge, which must traverse every directory above its files: its own dir in /tmp
        self._munge_top = None
        self.munge_socket = None
        self.procs = {}  # name -> Popen of the daemons started here
        self._made_ns = []

    # -- checks -------------------------------------------------------------------------------------------------
    def _check(self):
        if os.geteuid() != 0:
            raise Unavailable("needs root (network namespaces, slurmd)")
        for tool in ("ip", "unshare", "nsenter"):
            if shutil.which(tool) is None:
                raise Unavailable(f"needs `{tool}`")
        if shutil.which("slurmctld") is None or shutil.which("munged") is None:
            if not self.install or shutil.which("apt-get") is None:
                raise Unavailable("needs Slurm (slurm-wlm) and munge; no apt-get to install them")
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            done = subprocess.run("apt-get update -qq && apt-get install -y -qq slurm-wlm munge", shell=True,
                                  check=False, env=env, capture_output=True, text=True, timeout=600)
            if done.returncode != 0 or shutil.which("slurmctld") is None:
                raise Unavailable(f"apt-get install slurm-wlm munge failed: {done.stderr[-500:]}")

    # -- set-up ---------------------------------------------------------------------------------------------------
    def start(self):
        self._check()
        try:
            self._network()
            self._munge()
            self._write_conf()
            first = self.nodes[0][0]
            self._daemon("slurmctld", first, ["slurmctld", "-D", "-i", "-f", str(self.conf)])
            for ns, _, _ in self.nodes:
                self._daemon(f"slurmd-{ns}", ns, ["slurmd", "-D", "-f", str(self.conf)])
            self._wait_idle()
        except BaseException:
            self.stop()
            raise
        return self

    def _network(self):
        (_, d1, _), (_, d2, _) = self.nodes
        for ns, _, _ in self.nodes:
            _ip("netns", "add", ns)
            self._made_ns.append(ns)
        _ip("link", "add", d1, "type", "veth", "peer", "name", d2)
        self.hosts = self.root / "hosts"  # bind-mounted over /etc/hosts in each node: the node names resolve there
        self.hosts.write_text("127.0.0.1 localhost\n" + "".join(f"{addr} {ns}\n" for ns, _, addr in self.nodes))
        for ns, dev, addr in self.nodes:
            _ip("link", "set", dev, "netns", ns)
            _ip("-n", ns, "link", "set", dev, "name", self.IFNAME)  # one name on every node: GLOO_SOCKET_IFNAME
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", self.IFNAME)
            _ip("-n", ns, "link", "set", self.IFNAME, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            (self.root / f"spool-{ns}").mkdir()

    def _munge(self):
        self._munge_top = Path(tempfile.mkdtemp(prefix="vt-munge-"))
        os.chmod(self._munge_top, 0o755)
        d = self._munge_top / "munge"
        self.munge_socket = d / "munge.socket"
        d.mkdir()
        shutil.chown(d, "munge", "munge")
        os.chmod(d, 0o700)
        key = d / "munge.key"
        key.write_bytes(os.urandom(1024))
        shutil.chown(key, "munge", "munge")
        os.chmod(key, 0o400)
        # munged checks every directory above its socket and key: /tmp (sticky, world-writable) is refused unless -f
        self._daemon("munged", None, ["munged", "-F", "-f", f"--socket={self.munge_socket}",
                                      f"--key-file={key}", f"--pid-file={d / 'munged.pid'}",
                                      f"--log-file={d / 'munged.log'}", f"--seed-file={d / 'munged.seed'}"])
        for _ in range(50):
            if self.munge_socket.exists():
                return
            self._alive("munged")
            time.sleep(0.2)
        raise Unavailable("munged did not create its socket")

    def _write_conf(self):
        for sub in ("ctld", "log"):
            (self.root / sub).mkdir(exist_ok=True)
        (n1, _, a1) = self.nodes[0]
        nodes = "".join(f"NodeName={ns} NodeAddr={addr} CPUs=2 State=UNKNOWN\n" for ns, _, addr in self.nodes)
        self.conf.write_text(f"""ClusterName=vt2n
SlurmctldHost={n1}({a1})
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket},cred_expire=5
StateSaveLocation={self.root}/ctld
SlurmdSpoolDir={self.root}/spool-%n
SlurmctldPidFile={self.root}/slurmctld.pid
SlurmdPidFile={self.root}/slurmd-%n.pid
SlurmctldLogFile={self.root}/log/slurmctld.log
SlurmdLogFile={self.root}/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=5
JobRequeue=1
ReturnToService=2
MailProg=/bin/true
{nodes}PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")

    def _daemon(self, name, ns, cmd):
        if ns is not None:
            cmd = self.on_node(ns, cmd)
        user = {"user": "munge", "group": "munge", "extra_groups": []} if name == "munged" else {}
        with open(self.root / f"{name}.out", "w") as log:  # the child keeps its own descriptor
            self.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                                start_new_session=True, **user)

    def _alive(self, name):
        if self.procs[name].poll() is not None:
            out = (self.root / f"{name}.out").read_text()[-1500:]
            raise Unavailable(f"{name} exited ({self.procs[name].returncode}): {out}")

    def _wait_idle(self, timeout=90):
        end = time.monotonic() + timeout
        out = ""
        while time.monotonic() < end:
            for name in self.procs:
                self._alive(name)
            out = self.run(["sinfo", "-h", "-N", "-o", "%N %t"], check=False).stdout
            if sorted(line.split()[1] for line in out.splitlines() if line.strip()) == ["idle", "idle"]:
                return
            time.sleep(1)
        raise Unavailable(f"the two nodes did not become idle in {timeout} s: sinfo says {out!r}")

    # -- use ------------------------------------------------------------------------------------------------------
    @property
    def env(self):
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def on_node(self, ns, cmd):
        """`cmd` in node `ns`: its network namespace (nsenter, not `ip netns exec`, which remounts /sys without the
        cgroup tree slurmd needs), its own UTS namespace (hostname = node name) and mount namespace (its /etc/hosts)."""
        script = f'hostname {ns} && mount --bind {self.hosts} /etc/hosts && exec "$@"'
        return ["nsenter", f"--net=/run/netns/{ns}", "unshare", "--uts", "--mount", "sh", "-c", script, "sh", *cmd]

    def client(self, cmd):
        """`cmd` as run from the first node (where slurmctld listens)."""
        return self.on_node(self.nodes[0][0], cmd)

    def run(self, cmd, check=True, timeout=120, env=None, **kw):
        return subprocess.run(self.client(cmd), check=check, capture_output=True, text=True, timeout=timeout,
                              env={**self.env, **(env or {})}, **kw)

    # -- tear-down ------------------------------------------------------------------------------------------------
    def stop(self):
        if "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
            self.run(["scancel", "--full", "--user=root"], check=False, timeout=30)
        for name in [n for n in self.procs if n != "munged"] + (["munged"] if "munged" in self.procs else []):
            proc = self.procs[name]
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # its own session: the sh/unshare wrapper and the daemon
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
        self.procs.clear()
        for ns in self._made_ns:  # whatever still runs in a node (a job step slurmd left behind) ends with it
            listed = subprocess.run(["ip", "netns", "pids", ns], check=False, capture_output=True, text=True).stdout
            for pid in listed.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["ip", "netns", "delete", ns], check=False, capture_output=True)
        self._made_ns = []
        for pidfile in self.root.glob("*.pid"):
            pidfile.unlink()
        if self._munge_top is not None:
            shutil.rmtree(self._munge_top, ignore_errors=True)  # socket, key, pidfile, seed
            self._munge_top = None
