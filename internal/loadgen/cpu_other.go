//go:build !unix

package loadgen

import "time"

// ProcessCPU is zero where the CPU time of a process is not measured: the
// CPU figures of a run are then left out.
func ProcessCPU() time.Duration { return 0 }
