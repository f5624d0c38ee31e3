package localservers

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"

	"github.com/lib/pq"
)

// PostgresOptions configures StartPostgres.
type PostgresOptions struct {
	// Dir is the cluster's folder; initdb runs there when it holds no cluster
	// yet (it must then be missing or empty). Required. When we run as root,
	// Dir is handed to the `postgres` OS user and its ancestors gain the
	// search (x) bit for others, since Postgres refuses to run as root.
	Dir string
	// Port to listen on at 127.0.0.1. Defaults to 0: a free port.
	Port int
	// Fast turns off fsync, synchronous_commit and full_page_writes: a crash
	// may lose or corrupt data, so for tests only. Defaults to false.
	Fast bool
	// Log receives the output of initdb and of the server. Defaults to nil:
	// the server's goes to Dir/postgres.log, initdb's only into errors.
	Log io.Writer
}

// Postgres is a Postgres server started by StartPostgres, with superuser
// "foyer" and trust authentication. Its methods are safe for concurrent use.
type Postgres struct {
	Addr string // 127.0.0.1:port

	opts  PostgresOptions
	bin   string // folder holding initdb and postgres
	cred  *syscall.Credential
	admin *sql.DB // on database "postgres", for CreateDatabase and DropDatabase

	// mu guards proc and closed, and runs one CREATE DATABASE at a time: cheap
	// insurance against "source database is being accessed by other users"
	// when clones of one template meet (Postgres 15 was seen to allow them).
	mu     sync.Mutex
	proc   *process
	closed bool
}

// StartPostgres creates the cluster if needed, starts its server and returns
// once it accepts connections, with a database "foyer" present.
func StartPostgres(ctx context.Context, o PostgresOptions) (*Postgres, error) {
	if o.Dir == "" {
		return nil, errors.New("start postgres: PostgresOptions.Dir is empty")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	o.Dir = dir
	p := &Postgres{opts: o}
	if p.bin, err = postgresBinDir(); err != nil {
		return nil, fmt.Errorf("start postgres (scripts/provision.sh installs it): %w", err)
	}
	if p.cred, err = postgresCredential(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	hasCluster, err := prepareDir(dir, p.cred)
	if err != nil {
		return nil, fmt.Errorf("start postgres: prepare %s: %w", dir, err)
	}
	if !hasCluster {
		if err := p.initdb(ctx); err != nil {
			return nil, err
		}
	}
	if err := onFreePort(o.Port, func(port int) error { return p.start(ctx, port) }); err != nil {
		return nil, err
	}
	if err := p.ensureDatabase(ctx, "foyer"); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// URL is a lib/pq and pgx URL for database on this server.
func (p *Postgres) URL(database string) string {
	return postgresURL(p.Addr, database)
}

// CreateDatabase creates database name as a copy of template ("" means
// Postgres's default, template1). The template must have no open connections.
func (p *Postgres) CreateDatabase(ctx context.Context, name, template string) error {
	q := "CREATE DATABASE " + pq.QuoteIdentifier(name)
	if template != "" {
		q += " TEMPLATE " + pq.QuoteIdentifier(template)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.admin.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// DropDatabase drops database name if it exists, closing its connections.
func (p *Postgres) DropDatabase(ctx context.Context, name string) error {
	q := "DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)"
	if _, err := p.admin.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// PID is the postmaster's process id: its backends are its children, so
// what the server costs is read from it and them (a bench's CPU figures).
func (p *Postgres) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.proc.cmd.Process.Pid
}

// Stop shuts the server down (fast shutdown: SIGINT to the postmaster, which
// ends open sessions) and waits for it to exit. Later calls do nothing.
func (p *Postgres) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	p.admin.Close()
	if err := p.proc.stop(syscall.SIGINT); err != nil {
		return fmt.Errorf("stop postgres on %s: %w", p.Addr, err)
	}
	return nil
}

func (p *Postgres) initdb(ctx context.Context) error {
	args := []string{"-D", p.opts.Dir, "-U", "foyer", "--auth=trust", "-E", "UTF8", "--no-locale"}
	if p.opts.Fast {
		args = append(args, "--no-sync")
	}
	tail := &tailBuffer{}
	cmd := exec.CommandContext(ctx, filepath.Join(p.bin, "initdb"), args...)
	cmd.Dir = p.opts.Dir
	cmd.Stdout = tail
	if p.opts.Log != nil {
		cmd.Stdout = io.MultiWriter(p.opts.Log, tail)
	}
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = sysProcAttr(p.cred)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb %s: %w\n--- end of initdb output ---\n%s", p.opts.Dir, err, tail)
	}
	return nil
}

// start runs the postmaster on port and waits until it accepts a connection.
func (p *Postgres) start(ctx context.Context, port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// No Unix socket (-k ""): its path must fit in 107 bytes, which deep temp
	// folders exceed, and Debian's default folder may not be writable.
	args := []string{"-D", p.opts.Dir, "-p", strconv.Itoa(port), "-k", "",
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"}
	if p.opts.Fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	out, err := openLog(p.opts.Log, p.opts.Dir, "postgres.log")
	if err != nil {
		return fmt.Errorf("start postgres on %s: %w", addr, err)
	}
	proc, err := launch(filepath.Join(p.bin, "postgres"), args, p.opts.Dir, p.cred, out)
	if err != nil {
		return fmt.Errorf("start postgres on %s: %w", addr, err)
	}
	// connect_timeout: lib/pq ignores the context during the handshake, which
	// a process that accepts but does not answer would stall forever.
	admin, err := sql.Open("postgres", postgresURL(addr, "postgres")+"&connect_timeout=2")
	if err == nil {
		err = proc.waitReady(ctx, func(ctx context.Context) error {
			// Ours, not another server that holds the port we failed to bind?
			var dataDir string
			if err := admin.QueryRowContext(ctx, "SHOW data_directory").Scan(&dataDir); err != nil {
				return err
			}
			if dataDir != p.opts.Dir {
				return fmt.Errorf("%s is the server of %s", addr, dataDir)
			}
			return nil
		})
	}
	if err != nil {
		admin.Close()
		proc.stop(syscall.SIGKILL)
		return fmt.Errorf("start postgres on %s: %w%s", addr, err, proc.logTail())
	}
	p.Addr, p.proc, p.admin = addr, proc, admin
	return nil
}

func (p *Postgres) ensureDatabase(ctx context.Context, name string) error {
	var exists bool
	err := p.admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	return p.CreateDatabase(ctx, name, "")
}

// postgresBinDir finds the folder holding initdb and postgres: initdb's on PATH
// (symlinks resolved), else the newest /usr/lib/postgresql/<major>/bin, where
// Debian installs them without putting them on PATH.
func postgresBinDir() (string, error) {
	if path, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(path); err == nil {
			path = real
		}
		dir := filepath.Dir(path)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	dirs = slices.DeleteFunc(dirs, func(d string) bool {
		_, err := os.Stat(filepath.Join(d, "initdb"))
		return err != nil
	})
	if len(dirs) == 0 {
		return "", errors.New("no initdb on PATH or in /usr/lib/postgresql/*/bin")
	}
	major := func(d string) float64 { // "9.6" and "15" both parse
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	return slices.MaxFunc(dirs, func(a, b string) int { return cmp.Compare(major(a), major(b)) }), nil
}

// postgresCredential is who initdb and postgres run as: us (nil), unless we
// are root, which both refuse; then the `postgres` OS user.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, which Postgres refuses, and no postgres OS user to run as: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres user id %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres group id %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// prepareDir creates dir, or checks that it holds a cluster or nothing, and,
// when the server runs as another user, gives a new dir to that user and lets
// it reach dir: folders such as t.TempDir() are 0700.
func prepareDir(dir string, cred *syscall.Credential) (hasCluster bool, err error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return false, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return false, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	hasCluster = slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() == "PG_VERSION" })
	if !hasCluster && len(entries) > 0 {
		return false, errors.New("holds files but no Postgres cluster: give an empty or new folder")
	}
	if cred == nil {
		return hasCluster, nil
	}
	if !hasCluster { // an existing cluster already belongs to its server's user
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return false, err
		}
	}
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return false, err
		}
		if fi.Mode()&0o001 == 0 {
			if err := os.Chmod(d, fi.Mode()|0o001); err != nil {
				return false, err
			}
		}
		if d == filepath.Dir(d) {
			return hasCluster, nil
		}
	}
}

// postgresURL is the URL of database at addr for the superuser foyer, without
// TLS, which a loopback server doesn't offer.
func postgresURL(addr, database string) string {
	return "postgres://foyer@" + addr + "/" + url.PathEscape(database) + "?sslmode=disable"
}
