// Command kube-testenv runs a real kube-apiserver (k8s.io/kubernetes/cmd/kube-apiserver/app)
// in-process on 127.0.0.1, backed by an embedded etcd, for tests and local development.
//
// It generates a CA, a serving certificate and service-account keys, writes a static token
// file with an admin token and a least-privilege token, starts etcd and kube-apiserver, waits
// for /readyz, writes DIR/admin.kubeconfig and DIR/limited.kubeconfig and prints
//
//	READY /abs/path/to/DIR/admin.kubeconfig
//
// on stdout. It stops cleanly on SIGTERM or SIGINT. There is no controller-manager, scheduler
// or kubelet: objects are stored and validated exactly as a real cluster does, but nothing
// reconciles them (pods stay Pending unless their status is patched, deleted namespaces stay
// Terminating).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Identities written to the static token file.
const (
	adminUser   = "admin"
	adminGroups = "system:masters"

	limitedUser   = "system:serviceaccount:isolation-console:isolation-console"
	limitedGroups = "system:serviceaccounts,system:serviceaccounts:isolation-console,system:authenticated"
)

type options struct {
	port     int
	etcdPort int
	dir      string
	verbose  bool
	clean    bool
	timeout  time.Duration
}

func main() {
	os.Exit(run())
}

func run() int {
	var o options
	fs := flag.NewFlagSet("kube-testenv", flag.ContinueOnError)
	fs.IntVar(&o.port, "port", 6443, "kube-apiserver secure port on 127.0.0.1 (0 picks a free one)")
	fs.IntVar(&o.etcdPort, "etcd-port", 0, "embedded etcd client port on 127.0.0.1 (0 picks a free one)")
	fs.StringVar(&o.dir, "dir", "", "work directory for etcd data, certificates, tokens and kubeconfigs (created if missing; default: a new temporary directory)")
	fs.BoolVar(&o.verbose, "verbose", false, "log kube-apiserver and etcd info messages (klog -v=2) instead of warnings and errors only")
	fs.BoolVar(&o.clean, "clean", false, "delete the etcd data left in DIR by an earlier run before starting")
	fs.DurationVar(&o.timeout, "ready-timeout", 120*time.Second, "give up if the apiserver is not ready within this time")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		logf("unexpected arguments %q", fs.Args())
		return 2
	}

	// Everything the apiserver and etcd log goes through a filter on stderr that drops klog
	// info lines unless --verbose.
	logs := startLogFilter(!o.verbose)
	defer logs.Close()

	if err := serve(o, logs); err != nil {
		logf("%v", err)
		return 1
	}
	return 0
}

// ownStderr is the real stderr, for kube-testenv's own messages (which bypass the filter).
var ownStderr = os.Stderr

func logf(format string, args ...any) {
	fmt.Fprintf(ownStderr, "kube-testenv: "+format+"\n", args...)
}

func serve(o options, logs *logFilter) error {
	// Signals: NewAPIServerCommand installs the apiserver's own SIGTERM/SIGINT handler (which
	// cancels its context and exits on a second signal); this one only starts our clock.
	sigCh := make(chan os.Signal, 2)
	signal.Notify(sigCh, syscall.SIGTERM, syscall.SIGINT)

	if o.dir == "" {
		d, err := os.MkdirTemp("", "kube-testenv-")
		if err != nil {
			return err
		}
		o.dir = d
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if o.clean {
		if err := os.RemoveAll(filepath.Join(dir, "etcd")); err != nil {
			return err
		}
	}

	if o.port == 0 {
		if o.port, err = freePort(); err != nil {
			return err
		}
	} else if err := checkPortFree(o.port); err != nil {
		return fmt.Errorf("--port %d: %w", o.port, err)
	}
	if o.etcdPort == 0 {
		if o.etcdPort, err = freePort(); err != nil {
			return err
		}
	}
	peerPort, err := freePort()
	if err != nil {
		return err
	}

	files, err := writeCredentials(dir)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}

	start := time.Now()
	etcd, err := startEtcd(filepath.Join(dir, "etcd"), o.etcdPort, peerPort, o.verbose)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer closeWithin(etcd.Close, 3*time.Second)

	apiDone := make(chan error, 1)
	go func() { apiDone <- runAPIServer(o, dir, files, etcd.ClientURL) }()

	server := fmt.Sprintf("https://127.0.0.1:%d", o.port)
	readyCtx, cancelReady := context.WithTimeout(context.Background(), o.timeout)
	readyErr := make(chan error, 1)
	go func() { readyErr <- waitReady(readyCtx, server, files) }()

	select {
	case err := <-readyErr:
		cancelReady()
		if err != nil {
			return fmt.Errorf("kube-apiserver did not become ready: %w", err)
		}
	case err := <-apiDone:
		cancelReady()
		return fmt.Errorf("kube-apiserver exited before it was ready: %v", err)
	case <-sigCh:
		logs.stopping.Store(true)
		// Stopped while starting: the apiserver's own signal handler may not be installed yet,
		// so do not wait for it; closing etcd and exiting is enough.
		cancelReady()
		return nil
	}

	admin := filepath.Join(dir, "admin.kubeconfig")
	if err := writeKubeconfig(admin, server, files.caPEM, "admin", files.adminToken); err != nil {
		return err
	}
	if err := writeKubeconfig(filepath.Join(dir, "limited.kubeconfig"), server, files.caPEM, "limited", files.limitedToken); err != nil {
		return err
	}
	logf("kube-apiserver %s ready on %s after %.1fs (etcd 127.0.0.1:%d, dir %s)",
		versionString(), server, time.Since(start).Seconds(), o.etcdPort, dir)
	fmt.Printf("READY %s\n", admin)
	_ = os.Stdout.Sync()

	select {
	case <-sigCh:
		// While stopping, the apiserver's etcd clients warn about the closing etcd; mute them.
		logs.stopping.Store(true)
		return waitAPIServer(apiDone)
	case err := <-apiDone:
		return fmt.Errorf("kube-apiserver exited: %v", err)
	}
}

// waitAPIServer gives the apiserver (whose context the signal has cancelled) a few seconds to
// shut down; the deferred etcd close follows.
func waitAPIServer(apiDone <-chan error) error {
	select {
	case err := <-apiDone:
		if err != nil && !errors.Is(err, context.Canceled) {
			logf("kube-apiserver stopped: %v", err)
		}
	case <-time.After(4 * time.Second):
		logf("kube-apiserver did not stop within 4s; exiting anyway")
	}
	return nil
}

func closeWithin(f func(), d time.Duration) {
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func checkPortFree(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return l.Close()
}

// logFilter replaces os.Stderr with a pipe and copies it to the real stderr, dropping klog
// info lines ("I0102 15:04:05.000000 ...") and their continuation lines when quiet.
type logFilter struct {
	stopping atomic.Bool // when quiet, drop all their output once a stop signal arrived
	w        *os.File
	real     *os.File
	done     chan struct{}
}

func startLogFilter(quiet bool) *logFilter {
	real := os.Stderr
	r, w, err := os.Pipe()
	if err != nil {
		return &logFilter{real: real}
	}
	f := &logFilter{w: w, real: real, done: make(chan struct{})}
	os.Stderr = w
	go func() {
		defer close(f.done)
		buf := make([]byte, 0, 64*1024)
		tmp := make([]byte, 32*1024)
		dropping := false
		for {
			n, err := r.Read(tmp)
			buf = append(buf, tmp[:n]...)
			for {
				i := bytes.IndexByte(buf, '\n')
				if i < 0 {
					break
				}
				line := buf[:i+1]
				switch {
				case isKlogHeader(line): // klog from kube-apiserver
					dropping = quiet && (line[0] == 'I' || isNoise(line))
				case bytes.HasPrefix(line, []byte(`{"level":`)): // zap JSON from etcd
					dropping = quiet && (bytes.HasPrefix(line, []byte(`{"level":"info"`)) ||
						bytes.HasPrefix(line, []byte(`{"level":"debug"`)) || isNoise(line))
				}
				if !dropping && !(quiet && f.stopping.Load()) {
					_, _ = real.Write(line)
				}
				buf = buf[i+1:]
			}
			if err != nil {
				if len(buf) > 0 && !dropping {
					_, _ = real.Write(buf)
				}
				return
			}
		}
	}()
	return f
}

func (f *logFilter) Close() {
	if f.w == nil {
		return
	}
	os.Stderr = f.real
	_ = f.w.Close()
	select {
	case <-f.done:
	case <-time.After(time.Second):
	}
}

// noise are warnings and errors that upstream kube-apiserver always logs in this setup and
// that mean nothing here; they are shown with --verbose only.
var noise = []string{
	"because it has no resources.",                               // "Skipping API foo/v1beta1 ...": disabled beta versions
	"The manifest file is empty",                                 // metrics allow-list manifest not configured
	"Found stale data, removed previous",                         // logged on every start with --endpoint-reconciler-type=none
	`namespaces \"kube-system\" not found`,                       // first start on empty etcd, until the bootstrap controller creates it
	"Unable to remove peer endpoint leases",                      // stopping before the peer lease was first written
	"for Service default/kubernetes is not allocated; repairing", // first-start race of the IP repair loop
	// etcd's listeners report their own closing as errors when it stops
	"setting up serving from embedded etcd failed",
	"use of closed network connection",
}

func isNoise(line []byte) bool {
	for _, n := range noise {
		if strings.Contains(string(line), n) {
			return true
		}
	}
	return false
}

// isKlogHeader reports whether line starts like "I0102 " / "W0102 " / "E0102 " / "F0102 ".
func isKlogHeader(line []byte) bool {
	if len(line) < 6 || !strings.ContainsRune("IWEF", rune(line[0])) || line[5] != ' ' {
		return false
	}
	for _, c := range line[1:5] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
