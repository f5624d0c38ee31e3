package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/localservers"
	"github.com/foyerhq/foyer/waitingroom"
)

// DemoOpensIn is how long after `foyer dev` starts its demo sale opens: long
// enough to open the page and join before the start.
const DemoOpensIn = time.Minute

// Dev runs the whole system in one process for trying Foyer out: throwaway
// Redis (AOF on) and Postgres servers in cfg.DataDir, a gateway, an order
// worker, a demo sale, and a second one sold through the example shop
// (devshop.go), whose environment it writes to cfg.DataDir/ShopEnvFile. It
// prints where to go, and stops everything it started when ctx ends.
func Dev(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) error {
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	// Before anything starts: the shop demo changes the gateway's and the
	// worker's settings.
	shop, err := newDevShop(&cfg)
	if err != nil {
		return err
	}
	// Throwaway: every run starts from nothing.
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear data folder %s: %w", dir, err)
	}
	fmt.Fprintf(out, "Starting Redis and Postgres in %s ...\n", dir)
	rs, err := localservers.StartRedis(ctx, localservers.RedisOptions{Dir: filepath.Join(dir, "redis"), AppendOnly: true})
	if err != nil {
		return err
	}
	defer rs.Stop()
	pg, err := localservers.StartPostgres(ctx, localservers.PostgresOptions{Dir: filepath.Join(dir, "postgres")})
	if err != nil {
		return err
	}
	defer pg.Stop()

	cfg.RedisURL, cfg.DatabaseURL = rs.URL(), pg.URL("foyer")
	if cfg.AdminToken == "" {
		cfg.AdminToken = rand.Text()
	}
	if len(cfg.SigningKeys) == 0 {
		cfg.SigningKeys = []string{keyring.NewSeed()}
	}
	if cfg.WebhookSecret == "" {
		cfg.WebhookSecret = rand.Text() + rand.Text() // 52 characters: at least MinWebhookSecretLength
	}
	gw, err := NewGateway(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer gw.Close()
	if cfg.WebhookURL == "" {
		cfg.WebhookURL = gw.URL() + "/v1/payments/webhook"
	}
	wk, err := NewWorker(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer wk.Close()

	saleID := ""
	if cfg.DemoSale {
		sale, err := gw.Operator.Create(ctx, demoPlan(time.Now()), "foyer dev")
		if err != nil {
			return fmt.Errorf("create demo sale: %w", err)
		}
		saleID = sale.ID
	}
	shopSaleID := ""
	if shop != nil {
		if shopSaleID, err = shop.setUp(ctx, gw, cfg, dir); err != nil {
			return err
		}
	}
	printWelcome(out, gw.URL(), gw.OpsAddr(), cfg.AdminToken, saleID)
	if shop != nil {
		shop.printWelcome(out, shopSaleID, cfg.DataDir, filepath.Join(dir, ShopEnvFile))
	}
	fmt.Fprintf(out, "Press Ctrl-C to stop everything.\n\n")

	grp, gctx := errgroup.WithContext(ctx)
	grp.Go(func() error { return gw.Run(gctx) })
	grp.Go(func() error { return wk.Run(gctx) })
	err = grp.Wait()
	fmt.Fprintln(out, "Stopped.")
	return err
}

func demoPlan(now time.Time) waitingroom.Plan {
	starts := now.Add(DemoOpensIn).Truncate(time.Second)
	return waitingroom.Plan{
		SKU: "FOYER-RUNNER-01", Name: "Foyer Runner, launch edition", PriceCents: 12900, Currency: "EUR",
		Stock: 100, StartsAt: starts, EndsAt: starts.Add(time.Hour),
		OutflowPerSecond: 2, ReservationTTLSeconds: 120, PrequeueSeconds: 900, PerShopperLimit: 1,
	}
}

func printWelcome(out io.Writer, url, opsAddr, adminToken, saleID string) {
	fmt.Fprintf(out, "\nFoyer is running at %s\n", url)
	if saleID != "" {
		fmt.Fprintf(out, "  Shopper page: %s/?sale=%s  (the demo sale opens in %s)\n", url, saleID, DemoOpensIn)
	}
	fmt.Fprintf(out, "  Admin API:    %s/v1/admin/sales  with header  Authorization: Bearer %s\n", url, adminToken)
	fmt.Fprintf(out, "  Dashboard:    %s/admin.html  (sign in with the admin token)\n", url)
	fmt.Fprintf(out, "  Admin token:  %s\n", adminToken)
	if opsAddr != "" {
		fmt.Fprintf(out, "  Metrics:      http://%s/metrics  (the ops port, loopback only; profiles under /debug/pprof/)\n", opsAddr)
	}
}
