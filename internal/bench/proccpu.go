package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// The worker serves no metrics, so its CPU is read where its own counters
// are kept: the kernel's account of the process, /proc/PID/stat.

// userHZ is the unit of /proc's CPU times: fixed at 100 a second for user
// space on Linux, whatever the kernel's own tick.
const userHZ = 100

// processCPU is the CPU (user and system) process pid has used so far.
func processCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read the CPU of process %d: %w", pid, err)
	}
	return statCPU(string(raw))
}

// statCPU reads utime and stime, the 14th and 15th fields of a
// /proc/PID/stat line. The second field, the command in parentheses, may
// hold spaces and parentheses itself, so the fields are counted from the
// last ')'.
func statCPU(stat string) (time.Duration, error) {
	st, err := parseStat(stat)
	return st.own, err
}

// procStat is what a /proc/PID/stat line says of a process's CPU.
type procStat struct {
	ppid     int
	own      time.Duration // utime + stime
	children time.Duration // cutime + cstime: its children that exited and were waited for
}

// parseStat reads ppid (4th field), utime, stime, cutime and cstime (14th
// to 17th). The second field, the command in parentheses, may hold spaces
// and parentheses itself, so the fields are counted from the last ')'.
func parseStat(stat string) (procStat, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return procStat{}, fmt.Errorf("a /proc stat line without its command: %q", stat)
	}
	// After the command: state (3rd field) onwards, so ppid is the 2nd and
	// utime the 12th.
	f := strings.Fields(stat[end+1:])
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("a /proc stat line of %d fields after its command, want at least 15", len(f))
	}
	var n [5]int64
	for i, at := range []int{1, 11, 12, 13, 14} {
		v, err := strconv.ParseInt(f[at], 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("a /proc stat line whose field %d is %q", at+3, f[at])
		}
		n[i] = v
	}
	tick := func(v int64) time.Duration { return time.Duration(v) * time.Second / userHZ }
	return procStat{ppid: int(n[0]), own: tick(n[1] + n[2]), children: tick(n[3] + n[4])}, nil
}

// serverCPU is what a server of many processes has used so far: Postgres,
// whose postmaster pid forks a backend per connection. It adds the
// postmaster's own, its children's still running (each with their own
// children) and those that ended, which the postmaster waited for.
func serverCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read the CPU of process %d: %w", pid, err)
	}
	root, err := parseStat(string(raw))
	if err != nil {
		return 0, err
	}
	total := root.own + root.children
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // ended meanwhile: its CPU is in root.children from the next read
		}
		if st, err := parseStat(string(raw)); err == nil && st.ppid == pid {
			total += st.own + st.children
		}
	}
	return total, nil
}
