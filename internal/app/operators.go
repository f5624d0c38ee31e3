package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/foyerhq/foyer/internal/operators"
)

// cliActor is how the audit log names an account made from the command line.
const cliActor = "cli"

// CreateOperator makes an operator account from the command line (foyer
// operator create), so that a deployment's first admin needs no admin
// token. The password is the first line read from password (standard
// input), so that it is in no process list nor shell history.
func CreateOperator(ctx context.Context, cfg Config, username, role string, password io.Reader, out io.Writer) error {
	line, err := bufio.NewReader(io.LimitReader(password, 4<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	// Checked before Postgres is reached: a typo is told at once.
	n := operators.NewOperator{Username: operators.NormalUsername(username), Password: line, Role: operators.Role(role)}
	if err := errors.Join(operators.CheckUsername(n.Username), operators.CheckPassword(n.Password), operators.CheckRole(n.Role)); err != nil {
		return err
	}
	db, err := connectPostgres(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	op, err := operators.New(db).Create(ctx, n, cliActor)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "operator %s created with the role %s: sign in at /admin.html\n", op.Username, op.Role)
	return nil
}
