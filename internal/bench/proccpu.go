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
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("a /proc stat line without its command: %q", stat)
	}
	// After the command: state (3rd field) onwards, so utime is the 12th.
	f := strings.Fields(stat[end+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("a /proc stat line of %d fields after its command, want at least 13", len(f))
	}
	utime, errU := strconv.ParseInt(f[11], 10, 64)
	stime, errS := strconv.ParseInt(f[12], 10, 64)
	if errU != nil || errS != nil {
		return 0, fmt.Errorf("a /proc stat line whose utime and stime are %q and %q", f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}
