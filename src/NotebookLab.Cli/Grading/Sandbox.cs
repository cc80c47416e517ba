using System.Diagnostics;

namespace NotebookLab.Cli.Grading;

/// <summary>
/// How a submission's worker is confined, from what this machine offers (each layer is used when it works here, and
/// <see cref="Describe"/> says which did):
/// <list type="bullet">
/// <item><b>Memory</b>: <c>prlimit --data</c> (RLIMIT_DATA: the heap and anonymous memory; .NET's address-space
/// reservations are not counted, so the runtime still starts) and <c>DOTNET_GCHeapHardLimit</c> for the managed heap.</item>
/// <item><b>Processes</b>: <c>unshare --user --map-root-user --pid --fork --kill-child</c>: the worker is PID 1 of its own PID
/// namespace, so when it ends or is killed every process it started (a fork bomb, a daemonised child) dies with it.</item>
/// <item><b>Network</b>: <c>unshare --net</c>: a network namespace with nothing in it (the worker's pipe to the grader is
/// a Unix socket at a path, which still connects).</item>
/// <item><b>Files and signals</b>: Landlock (Linux 5.13+, unprivileged), set up by a small Python wrapper before the worker
/// starts so every thread and child inherits it: read and execute only the system, the .NET runtime, the NuGet and
/// NotebookLab caches and this tool; read and write only the submission's private folder. The bundle, the other
/// submissions and the output folder cannot be read or written. Signals to processes outside the sandbox are refused
/// (Landlock ABI 6+).</item>
/// <item><b>Time</b>: the parent kills the whole tree past the per-cell / per-test limit.</item>
/// </list>
/// </summary>
public sealed class Sandbox
{
    public bool Prlimit { get; private init; }
    public bool PidNamespace { get; private init; }
    public bool NetNamespace { get; private init; }
    public bool Landlock { get; private init; }
    public string? Python { get; private init; }

    public static Sandbox None { get; } = new();

    static Sandbox? detected;
    static readonly object sync = new();

    /// <summary>Probes the machine once: which confinement layers work here.</summary>
    public static Sandbox Detect()
    {
        lock (sync)
        {
            if (detected is not null) return detected;
            if (!OperatingSystem.IsLinux()) return detected = None;
            var python = Which("python3");
            detected = new Sandbox
            {
                Prlimit = Works("prlimit", "--data=unlimited", "true"),
                PidNamespace = Works("unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "true"),
                NetNamespace = Works("unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--net", "true"),
                Python = python,
                Landlock = python is not null && Works(python, "-c", LandlockProbe),
            };
            return detected;
        }
    }

    public string Describe() =>
        this == None ? "none" : string.Join(", ", new[]
        {
            Prlimit ? "memory limit (prlimit)" : "no memory limit (prlimit missing)",
            PidNamespace ? "PID namespace (unshare)" : "no PID namespace (unshare refused)",
            NetNamespace ? "no network (network namespace)" : "network not isolated",
            Landlock ? "Landlock file and signal sandbox" : "no file sandbox (Landlock unavailable)",
        });

    const string LandlockProbe = "import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); sys.exit(0 if l.syscall(444,None,0,1)>=1 else 1)";

    static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    static bool Works(string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            if (!p.WaitForExit(10_000)) { p.Kill(true); return false; }
            return p.ExitCode == 0;
        }
        catch (Exception) { return false; }
    }

    /// <summary>The command line that runs <paramref name="command"/> inside the sandbox.</summary>
    public IReadOnlyList<string> Wrap(IReadOnlyList<string> command, string writable, IEnumerable<string> readable, long? memoryBytes, string wrapperPath)
    {
        var line = new List<string>();
        if (Prlimit && memoryBytes is { } bytes) line.AddRange(["prlimit", $"--data={bytes}", "--"]);
        if (PidNamespace)
        {
            line.AddRange(["unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child"]);
            if (NetNamespace) line.Add("--net");   // no interfaces but a down loopback; the grader's pipe is a path, so it still connects
        }
        if (Landlock)
        {
            File.WriteAllText(wrapperPath, LandlockWrapper);
            line.AddRange([Python!, wrapperPath, "--rw", writable]);
            foreach (var r in readable.Where(p => Directory.Exists(p) || File.Exists(p)).Distinct()) line.AddRange(["--ro", r]);
            line.Add("--");
        }
        line.AddRange(command);
        return line;
    }

    /// <summary>Sets up Landlock for itself (single-threaded, so the rules cover everything it then execs) and execs the worker.</summary>
    const string LandlockWrapper = """
        # notebooklab grade: confine the submission's worker with Landlock, then exec it.
        import ctypes, os, sys
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        abi = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
        if abi < 1:
            sys.exit("landlock unavailable")
        args = sys.argv[1:]
        rw, ro = [], []
        while args and args[0] != "--":
            flag, path = args[0], args[1]
            (rw if flag == "--rw" else ro).append(path)
            args = args[2:]
        cmd = args[1:]
        EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1, 2, 4, 8
        ALL = (1 << 13) - 1
        if abi >= 2: ALL |= 1 << 13      # REFER
        if abi >= 3: ALL |= 1 << 14      # TRUNCATE
        if abi >= 5: ALL |= 1 << 15      # IOCTL_DEV
        FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | ((1 << 14) if abi >= 3 else 0) | ((1 << 15) if abi >= 5 else 0)
        RO = EXECUTE | READ_FILE | READ_DIR
        class RulesetAttr(ctypes.Structure):
            _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]
        class PathBeneath(ctypes.Structure):
            _pack_ = 1
            _fields_ = [("allowed", ctypes.c_uint64), ("fd", ctypes.c_int32)]
        attr = RulesetAttr(ALL, 0, 3 if abi >= 6 else 0)   # scoped: abstract unix sockets, signals
        size = ctypes.sizeof(RulesetAttr) if abi >= 6 else 16
        ruleset = libc.syscall(444, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
        if ruleset < 0:
            sys.exit("landlock_create_ruleset failed: %d" % ctypes.get_errno())
        def allow(path, access):
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            if not os.path.isdir(path):
                access &= FILE_RIGHTS
            rule = PathBeneath(access, fd)
            if libc.syscall(445, ruleset, 1, ctypes.byref(rule), 0) != 0:
                sys.exit("landlock_add_rule %s failed: %d" % (path, ctypes.get_errno()))
            os.close(fd)
        for p in ro:
            allow(p, RO)
        for p in ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/tty"):
            if os.path.exists(p):
                allow(p, RO | WRITE_FILE | FILE_RIGHTS)
        for p in rw:
            allow(p, ALL)
        if libc.prctl(38, 1, 0, 0, 0) != 0:
            sys.exit("no_new_privs failed")
        if libc.syscall(446, ruleset, 0) != 0:
            sys.exit("landlock_restrict_self failed: %d" % ctypes.get_errno())
        os.execvp(cmd[0], cmd)
        """;
}
