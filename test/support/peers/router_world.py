"""One GMC router world: OPEA's router and the OPEA 1.1 stand-ins, in network and mount namespaces of their own.

Run as `unshare --net --mount python3 router_world.py CONFIG.json`. The router binds :8080 (fixed
upstream), so each world gets a fresh network namespace, where :8080 and the services' container ports
are free. Inside it this script brings loopback up, gives every service host name its own 127.0.0.N in
an /etc/hosts bind-mounted over the real one (private to this mount namespace), starts the stand-ins on
those addresses, starts the router, and forwards a Unix socket (a path on the shared filesystem, which
crosses network namespaces) to 127.0.0.1:8080. It prints one JSON line
{"ready": {"socket", "services"}} and runs until its stdin closes.

CONFIG: {"router", "graph" (JSON text), "fakes" (fakes.py), "dir", "services": [{"name", "role", "port"}],
"gateway"?: {"node", "script", "routes"}} (with a gateway, the socket leads to it, and it to the router);
the stand-ins log to DIR/stand-ins.jsonl, the router's stdout and stderr go to DIR/router.log.
"""
import ctypes, fcntl, json, os, signal, socket, socketserver, struct, subprocess, sys, threading, time
from opea11_stand_ins import serve

ROUTER_PORT = 8080
GATEWAY_PORT = 8888
libc = ctypes.CDLL(None, use_errno=True)


def loopback_up():
    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH", b"lo", 0)))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def bind_hosts(directory, names):
    """Maps each name to 127.0.0.2, .3, ... in a hosts file mounted over /etc/hosts; returns name -> address."""
    addresses = {name: f"127.0.0.{i + 2}" for i, name in enumerate(names)}
    hosts = os.path.join(directory, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 localhost\n" + "".join(f"{a} {n}\n" for n, a in addresses.items()))
    MS_BIND = 4096
    if libc.mount(hosts.encode(), b"/etc/hosts", None, MS_BIND, None) != 0:
        raise OSError(ctypes.get_errno(), "mount --bind over /etc/hosts (run me under unshare --mount)")
    return addresses


def die_with_parent():
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def start_router(binary, graph, log_path):
    # No proxy may catch the calls to the services (the /dataprep handler's client reads the environment).
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    log = open(log_path, "wb")
    return subprocess.Popen([binary, "--graph-json", graph], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, preexec_fn=die_with_parent)


def wait_listening(process, log_path, port=ROUTER_PORT, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited ({process.returncode}): {open(log_path).read()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{process.args[0]} did not listen on :{port} within {timeout} s")


def start_gateway(gateway, directory):
    """The compose project's gateway (node gateway.js routes.json) on 127.0.0.1:GATEWAY_PORT of this namespace."""
    env = {**os.environ, "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(GATEWAY_PORT)}
    log = open(os.path.join(directory, "gateway.log"), "wb")
    return subprocess.Popen([gateway["node"], gateway["script"], gateway["routes"]], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env, preexec_fn=die_with_parent)


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Forward(socketserver.BaseRequestHandler):
    port = ROUTER_PORT

    def handle(self):
        with socket.create_connection(("127.0.0.1", self.port)) as upstream:
            back = threading.Thread(target=pump, args=(upstream, self.request), daemon=True)
            back.start()
            pump(self.request, upstream)
            back.join()


class ForwardServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def stop(router):
    router.terminate()
    try:
        router.wait(5)
    except subprocess.TimeoutExpired:
        router.kill()
        router.wait()


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so that the router is stopped before we exit
    config = json.load(open(sys.argv[1]))
    directory = config["dir"]
    loopback_up()
    gateway = config.get("gateway")
    # The gateway calls the router by its compose name.
    addresses = bind_hosts(directory, sorted({s["name"] for s in config["services"]} | ({"router-service"} if gateway else set())))
    spec = [{"role": s["role"], "name": s["name"], "host": addresses[s["name"]], "port": s["port"]} for s in config["services"]]
    services = serve(config["fakes"], spec, os.path.join(directory, "stand-ins.jsonl"))
    log_path = os.path.join(directory, "router.log")
    router = start_router(config["router"], config["graph"], log_path)
    front = None
    try:
        wait_listening(router, log_path)
        if gateway:
            front = start_gateway(gateway, directory)
            wait_listening(front, os.path.join(directory, "gateway.log"), GATEWAY_PORT)
            Forward.port = GATEWAY_PORT
        sock = os.path.join(directory, "router.sock")
        forward = ForwardServer(sock, Forward)
        threading.Thread(target=forward.serve_forever, daemon=True).start()
        print(json.dumps({"ready": {"socket": sock, "services": services}}), flush=True)
        sys.stdin.read()
    finally:
        if front:
            stop(front)
        stop(router)


if __name__ == "__main__":
    main()
