package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestEveryToolingCommandAnswersHelpWithItsUsage asks each foyer-bench
// command for -h and --help: each prints its own usage and succeeds,
// starting nothing (the bench would start a whole Foyer, bare would listen).
func TestEveryToolingCommandAnswersHelpWithItsUsage(t *testing.T) {
	for _, cmd := range []string{"bench", "loadgen", "jscrowd", "bare", "bare-crowd", "help"} {
		for _, flag := range []string{"-h", "--help"} {
			t.Run(cmd+" "+flag, func(t *testing.T) {
				var out bytes.Buffer
				if err := realMain(t.Context(), []string{cmd, flag}, strings.NewReader(""), &out); err != nil {
					t.Fatalf("foyer-bench %s %s: %v\n%s", cmd, flag, err, out.String())
				}
				if !strings.Contains(out.String(), "usage") {
					t.Fatalf("foyer-bench %s %s printed no usage:\n%s", cmd, flag, out.String())
				}
				if want := "foyer-bench " + cmd; cmd != "help" && !strings.Contains(out.String(), want) {
					t.Fatalf("foyer-bench %s %s printed another command's usage:\n%s", cmd, flag, out.String())
				}
			})
		}
	}
}

// TestUnknownToolingCommandsAnswerWithTheUsage: a command foyer-bench does
// not know, or none, prints the list of those it does and fails.
func TestUnknownToolingCommandsAnswerWithTheUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"serve"}, {"frob", "--help"}} {
		var out bytes.Buffer
		err := realMain(t.Context(), args, strings.NewReader(""), &out)
		if !errors.Is(err, errUsage) || !strings.Contains(out.String(), "usage: foyer-bench") {
			t.Fatalf("foyer-bench %v: %v, want the usage and errUsage\n%s", args, err, out.String())
		}
	}
}
