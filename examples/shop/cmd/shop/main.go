// Command shop runs the example shop (package shop) in front of a Foyer:
//
//	FOYER_URL=http://localhost:8080 SHOP_KEY=fk_... SHOP_IDENTITY_SECRET=... \
//	SHOP_WEBHOOK_SECRET=whsec_... SHOP_SALE_IDS=s_... go run ./examples/shop/cmd/shop
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/foyerhq/foyer/examples/shop"
)

func main() {
	if err := realMain(); err != nil {
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
}

func realMain() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := shop.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	s, err := shop.New(ctx, cfg)
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: cfg.Addr, Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	slog.Info("example shop listening", "addr", cfg.Addr, "foyer", cfg.FoyerURL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
