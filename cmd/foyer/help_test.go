package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestEveryCommandAnswersHelpWithItsUsageBeforeReadingConfiguration asks
// each command for -h and --help in an environment that no command could
// run in (a configuration that does not parse, a Redis nobody listens on):
// each must print its usage and succeed, reading nothing and connecting
// nowhere. `foyer reconcile --help` used to look for a sale named "--help",
// and `foyer serve --help` to complain of the admin token.
func TestEveryCommandAnswersHelpWithItsUsageBeforeReadingConfiguration(t *testing.T) {
	unusable := map[string]string{
		"FOYER_LOG_FORMAT":   "not-a-format",
		"FOYER_REDIS_URL":    "redis://127.0.0.1:1/0",
		"FOYER_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?sslmode=disable",
	}
	commands := []string{"serve", "worker", "migrate", "dev", "reconcile", "operator", "help"}
	for _, cmd := range commands {
		for _, flag := range []string{"-h", "--help"} {
			t.Run(cmd+" "+flag, func(t *testing.T) {
				var out bytes.Buffer
				if err := realMain(t.Context(), []string{cmd, flag}, unusable, &out); err != nil {
					t.Fatalf("foyer %s %s: %v\n%s", cmd, flag, err, out.String())
				}
				if !strings.Contains(strings.ToLower(out.String()), "usage") {
					t.Fatalf("foyer %s %s printed no usage:\n%s", cmd, flag, out.String())
				}
				if want := "foyer " + cmd; cmd != "help" && !strings.Contains(out.String(), want) {
					t.Fatalf("foyer %s %s printed another command's usage:\n%s", cmd, flag, out.String())
				}
			})
		}
	}
}

// TestHelpAndUnknownCommandsReadNoConfiguration: `foyer help` (bare) and a
// command Foyer does not know answer with the usage whatever the
// environment holds; they used to fail on a configuration that did not
// parse, before saying anything useful.
func TestHelpAndUnknownCommandsReadNoConfiguration(t *testing.T) {
	unusable := map[string]string{"FOYER_ALLOW_VOLATILE_REDIS": "maybe"}
	var out bytes.Buffer
	if err := realMain(t.Context(), []string{"help"}, unusable, &out); err != nil || !strings.Contains(out.String(), "usage") {
		t.Fatalf("foyer help: %v\n%s", err, out.String())
	}
	for _, args := range [][]string{{"frob"}, {"frob", "--help"}} {
		out.Reset()
		err := realMain(t.Context(), args, unusable, &out)
		if !errors.Is(err, errUsage) || !strings.Contains(out.String(), "usage") {
			t.Fatalf("foyer %v: %v, want the usage and errUsage\n%s", args, err, out.String())
		}
	}
}

// TestTheToolingCommandsAnswerFromFoyerWithWhereTheyWent: bench, loadgen
// and the bench's children left the product binary for foyer-bench. Asked
// of foyer, with or without --help, each is an unknown command whose error
// names foyer-bench, so a reader of old docs finds the way.
func TestTheToolingCommandsAnswerFromFoyerWithWhereTheyWent(t *testing.T) {
	for _, cmd := range []string{"bench", "loadgen", "bench-bare", "bench-bare-crowd"} {
		for _, args := range [][]string{{cmd}, {cmd, "--help"}} {
			var out bytes.Buffer
			err := realMain(t.Context(), args, map[string]string{}, &out)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "foyer-bench") {
				t.Fatalf("foyer %v: %v, want errUsage naming foyer-bench", args, err)
			}
		}
	}
}
