package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// What the gateway's pushes cost is read from a CPU profile of one gateway
// taken while a sale moves: the samples whose stack passes through the
// push path, over all samples.

// The functions of internal/fanout that make up the push path, as a
// profile names them. pushLoopFunc is the room's once-a-second beat: it
// reads the sale's counters and encodes and queues every stock and
// position message (tick, push, pushPosition, broadcast, encode all run
// under it). writersFunc is the node's shared writers, which write every
// queued message to its socket: the pushes, and also the admitted and
// order messages and the join answers, so the writers' share bounds the
// pushes' writing from above. A writer's samples carry the profiler label
// writeLabel (fanout.WriteLabel): "push" while it writes the tick's pushes
// alone, so those are the pushes' writes. A test checks both functions and
// the label still exist.
const (
	pushLoopFunc = "github.com/foyerhq/foyer/internal/fanout.(*Room).pushLoop"
	writersFunc  = "github.com/foyerhq/foyer/internal/fanout.(*writePool).run"
	writeLabel   = "foyer_write"
)

// PushShare is the share of a gateway's CPU samples spent on the push path.
type PushShare struct {
	Seconds    float64 // how long the profile ran
	Samples    int64   // CPU samples in all
	PushLoop   float64 // share of samples under the room's push loop
	PushWrites float64 // share under the writers writing the tick's pushes alone
	Pushes     float64 // share under either of those two: what the pushes cost
	Writers    float64 // share under the shared writers, whatever they write
	Either     float64 // share under the push loop or any writer: what pushes cost at most
}

// pushShareOf counts, in a CPU profile, the samples whose stack holds the
// push loop, the writers or either, over all samples. Inlined frames count:
// a location lists every function inlined at it.
func pushShareOf(p *profile.Profile) (PushShare, error) {
	idx := -1
	for i, t := range p.SampleType {
		if t.Type == "samples" {
			idx = i
		}
	}
	if idx < 0 {
		return PushShare{}, fmt.Errorf("the profile has no sample counts (types %v)", sampleTypes(p))
	}
	var all, loop, pushWrites, pushes, writers, either int64
	for _, s := range p.Sample {
		n := s.Value[idx]
		inLoop, inWriters := false, false
		writingPushes := slices.Contains(s.Label[writeLabel], "push")
		for _, loc := range s.Location {
			for _, line := range loc.Line {
				if line.Function == nil {
					continue
				}
				switch line.Function.Name {
				case pushLoopFunc:
					inLoop = true
				case writersFunc:
					inWriters = true
				}
			}
		}
		all += n
		if inLoop {
			loop += n
		}
		if inWriters {
			writers += n
		}
		if inWriters && writingPushes {
			pushWrites += n
		}
		if inLoop || (inWriters && writingPushes) {
			pushes += n
		}
		if inLoop || inWriters {
			either += n
		}
	}
	share := PushShare{Seconds: time.Duration(p.DurationNanos).Seconds(), Samples: all}
	if all > 0 {
		of := func(n int64) float64 { return float64(n) / float64(all) }
		share.PushLoop, share.PushWrites, share.Pushes = of(loop), of(pushWrites), of(pushes)
		share.Writers, share.Either = of(writers), of(either)
	}
	return share, nil
}

func sampleTypes(p *profile.Profile) []string {
	var out []string
	for _, t := range p.SampleType {
		out = append(out, t.Type+"/"+t.Unit)
	}
	return out
}

// profilePushes takes a CPU profile of the gateway whose ops port is at
// metricsURL for seconds, and returns the push path's share of it. With keep
// set, the profile is also written there, for `go tool pprof` to find the
// next lever in.
func profilePushes(ctx context.Context, metricsURL string, seconds int, keep string) (PushShare, error) {
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", strings.TrimRight(metricsURL, "/"), seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return PushShare{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return PushShare{}, fmt.Errorf("profile the gateway: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return PushShare{}, fmt.Errorf("profile the gateway: %s answered %d", url, resp.StatusCode)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return PushShare{}, fmt.Errorf("read the gateway's profile: %w", err)
	}
	if keep != "" {
		if err := os.MkdirAll(filepath.Dir(keep), 0o755); err != nil {
			return PushShare{}, fmt.Errorf("keep the gateway's profile: %w", err)
		}
		if err := os.WriteFile(keep, raw, 0o644); err != nil {
			return PushShare{}, fmt.Errorf("keep the gateway's profile: %w", err)
		}
	}
	p, err := profile.ParseData(raw)
	if err != nil {
		return PushShare{}, fmt.Errorf("read the gateway's profile: %w", err)
	}
	share, err := pushShareOf(p)
	if err != nil {
		return PushShare{}, fmt.Errorf("read the gateway's profile: %w", err)
	}
	return share, nil
}

// profilePath is where a sale's gateway profile is kept: beside bench.md,
// one per outflow ("" when the run writes nowhere).
func profilePath(out string, outflow float64) string {
	if out == "" {
		return ""
	}
	return filepath.Join(out, fmt.Sprintf("gateway-sale-%g.pprof", outflow))
}
