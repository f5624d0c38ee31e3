package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// transportFrom is an HTTP transport whose connections leave from the
// loopback address ip, so one test plays clients from many addresses.
func transportFrom(ip string) *http.Transport {
	t, err := shopperclient.TransportFrom(ip)
	if err != nil {
		panic(err) // the tests name their addresses: a typo
	}
	return t
}

// apiCode is the error code and Retry-After of a refused call.
func apiCode(err error) (code string, retryAfter string) {
	var api *shopperclient.APIError
	if errors.As(err, &api) {
		return api.Code, api.RetryAfter
	}
	return "", ""
}

func TestAFloodFromOneAddressIsThrottledWhileOthersJoinNormally(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_LIMIT_IP_SESSIONS": "5", "FOYER_LIMIT_IP_REQUESTS": "50"})
	saleID := sys.createSale(t, map[string]any{"sku": "D-1", "name": "Flood", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	queue := waitingroom.Keys(saleID).Queue

	// The flood: 200 sessions asked for from 127.0.0.2, by 20 clients
	// as fast as they can.
	flood := shopperclient.NewWithTransport(sys.URL, transportFrom("127.0.0.2"))
	var mu sync.Mutex
	refused := map[string]int{}
	retryAfter := ""
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range 10 {
				_, err := flood.NewSession(ctx)
				code, ra := apiCode(err)
				mu.Lock()
				refused[code]++
				if ra != "" {
					retryAfter = ra
				}
				mu.Unlock()
			}
		})
	}
	// Meanwhile 100 shoppers, each from its own address, join.
	var joined sync.WaitGroup
	failures := make(chan error, 100)
	for i := range 100 {
		joined.Go(func() {
			client := shopperclient.NewWithTransport(sys.URL, transportFrom(fmt.Sprintf("127.0.1.%d", i+1)))
			sess, err := client.NewSession(ctx)
			if err != nil {
				failures <- fmt.Errorf("shopper %d: session: %w", i, err)
				return
			}
			conn, err := client.Connect(ctx, saleID, sess)
			if err != nil {
				failures <- fmt.Errorf("shopper %d: connect: %w", i, err)
				return
			}
			defer conn.CloseNow()
			if err := conn.Join(ctx); err != nil {
				failures <- err
				return
			}
			for {
				m, err := conn.Next(ctx)
				if err != nil {
					failures <- fmt.Errorf("shopper %d: %w", i, err)
					return
				}
				if m.Type == "error" {
					failures <- fmt.Errorf("shopper %d: error %s", i, m.Code)
					return
				}
				if m.Type == "position" {
					return
				}
			}
		})
	}
	wg.Wait()
	joined.Wait()
	close(failures)
	for err := range failures {
		t.Error(err)
	}
	// A burst of twice the rate gets through (10, and a few more as the
	// bucket refills during the flood); the rest is refused, by its code.
	if refused["rate_limited"] < 150 || refused[""]+refused["rate_limited"] != 200 {
		t.Errorf("the flood's 200 sessions: %v, want at least 150 rate_limited and the rest served", refused)
	}
	if n, err := strconv.Atoi(retryAfter); err != nil || n < 1 {
		t.Errorf("Retry-After %q, want whole seconds", retryAfter)
	}
	if n := sys.Redis.ZCard(ctx, queue).Val(); n != 100 {
		t.Errorf("%d in the queue, want the 100 honest shoppers", n)
	}
}

func TestTwentyTabsOfOneShopperHoldOnePlaceAndOneAddressIsCapped(t *testing.T) {
	sys := startNodes(t, 2, map[string]string{"FOYER_MAX_CONNS_PER_IP": "24"})
	saleID := sys.createSale(t, map[string]any{"sku": "D-2", "name": "Tabs", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)
	sess, err := client.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 20 tabs over two nodes, each joining.
	var tabs []*shopperclient.Conn
	for i := range 20 {
		conn, err := shopperclient.New(sys.URLs[i%2]).Connect(ctx, saleID, sess)
		if err != nil {
			t.Fatalf("tab %d: %v", i, err)
		}
		defer conn.CloseNow()
		expectMessage(t, ctx, conn, "welcome")
		if err := conn.Join(ctx); err != nil {
			t.Fatal(err)
		}
		tabs = append(tabs, conn)
	}
	for i, tab := range tabs {
		if m := expectMessage(t, ctx, tab, "position"); m.Position != 1 {
			t.Errorf("tab %d at position %d, want 1", i, m.Position)
		}
	}
	if n := sys.Redis.ZCard(ctx, waitingroom.Keys(saleID).Queue).Val(); n != 1 {
		t.Errorf("%d places in the queue for one shopper's 20 tabs, want 1", n)
	}
	// Four more sockets from the same address fit under its cap of 24 (the
	// 20 tabs count); the next is refused before the upgrade.
	for i := range 5 {
		other, err := client.NewSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := client.Connect(ctx, saleID, other)
		if i < 4 {
			if err != nil {
				t.Fatalf("socket %d of 24: %v", 21+i, err)
			}
			defer conn.CloseNow()
			continue
		}
		if err == nil {
			conn.CloseNow()
			t.Fatal("a 25th socket from one address was accepted under a cap of 24")
		}
		if code, _ := apiCode(err); code != "too_many_connections" {
			t.Errorf("25th socket refused with %v, want too_many_connections", err)
		}
	}
}

func TestABlockedNetworkIsRefusedOnEveryNodeWithinASecond(t *testing.T) {
	sys := startNodes(t, 3, nil)
	saleID := sys.createSale(t, map[string]any{"sku": "D-3", "name": "Block", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A shopper of the network, already connected before the block.
	inside := shopperclient.NewWithTransport(sys.URLs[2], transportFrom("127.0.3.9"))
	sess, err := inside.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := inside.Connect(ctx, saleID, sess)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	expectMessage(t, ctx, conn, "welcome")

	blockedAt := time.Now()
	var entry struct{ Kind, Value string }
	if status := sys.call(t, http.MethodPost, "/v1/admin/blocklist", sys.AdminToken,
		map[string]any{"kind": "net", "value": "127.0.3.0/24", "reason": "scalper farm"}, &entry); status != http.StatusCreated {
		t.Fatalf("block: status %d", status)
	}
	// Every node refuses the network within a second of the admin's call.
	deadline := blockedAt.Add(time.Second)
	for n, url := range sys.URLs {
		client := shopperclient.NewWithTransport(url, transportFrom("127.0.3.7"))
		for {
			_, err := client.NewSession(ctx)
			if code, _ := apiCode(err); code == "blocked" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %d still serves the blocked network a second after the block: %v", n, err)
			}
			time.Sleep(10 * time.Millisecond) // polling a condition; the deadline is what is asserted
		}
	}
	// The shopper connected before the block is sent away
	// (TestTheOpenSocketsOfABlockedNetworkAreClosedWithinASecond times it).
	if code := expectClose(t, ctx, conn); code != 4003 {
		t.Errorf("the socket open from the blocked network closed with %d, want 4003 blocked", code)
	}
	// Other addresses are served, and the block is audited.
	if _, err := shopperclient.NewWithTransport(sys.URL, transportFrom("127.0.4.1")).NewSession(ctx); err != nil {
		t.Errorf("an address outside the network: %v", err)
	}
	var audit struct{ Entries []struct{ Action string } }
	sys.call(t, http.MethodGet, "/v1/admin/audit", sys.AdminToken, nil, &audit)
	if len(audit.Entries) == 0 || audit.Entries[0].Action != "block" {
		t.Errorf("audit log %+v, want the block first", audit.Entries)
	}
	// Unblocked, the network is served again.
	sys.admin(t, http.MethodDelete, "/v1/admin/blocklist", map[string]any{"kind": "net", "value": "127.0.3.0/24"}, http.StatusOK)
	sys.admin(t, http.MethodDelete, "/v1/admin/blocklist", map[string]any{"kind": "net", "value": "127.0.3.0/24"}, http.StatusNotFound)
	sys.admin(t, http.MethodPost, "/v1/admin/blocklist", map[string]any{"kind": "net", "value": "not-a-network"}, http.StatusUnprocessableEntity)
}

func TestTheOpenSocketsOfABlockedNetworkAreClosedWithinASecond(t *testing.T) {
	sys := startNodes(t, 2, nil)
	saleID := sys.createSale(t, map[string]any{"sku": "D-5", "name": "Block open", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Two shoppers waiting on node 2: one from the network about to be
	// blocked, one from elsewhere.
	waitingFrom := func(ip string) *shopperclient.Conn {
		t.Helper()
		client := shopperclient.NewWithTransport(sys.URLs[1], transportFrom(ip))
		sess, err := client.NewSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := client.Connect(ctx, saleID, sess)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		expectMessage(t, ctx, conn, "welcome")
		if err := conn.Join(ctx); err != nil {
			t.Fatal(err)
		}
		expectMessage(t, ctx, conn, "position")
		return conn
	}
	inside, outside := waitingFrom("127.0.5.9"), waitingFrom("127.0.6.9")
	closed := make(chan error, 1)
	go func() {
		for {
			if _, err := inside.Next(ctx); err != nil {
				closed <- err
				return
			}
		}
	}()

	// Blocked through node 1; node 2 holds the socket.
	blockedAt := time.Now()
	sys.admin(t, http.MethodPost, "/v1/admin/blocklist",
		map[string]any{"kind": "net", "value": "127.0.5.0/24", "reason": "scalper farm"}, http.StatusCreated)
	err := <-closed
	if took := time.Since(blockedAt); took > time.Second {
		t.Errorf("the socket from the blocked network was closed %v after the block, want within a second", took)
	}
	if code := websocket.CloseStatus(err); code != 4003 {
		t.Fatalf("the socket from the blocked network ended with %v (code %d), want close 4003 blocked", err, code)
	}
	// The shopper from elsewhere is still connected and served.
	if err := outside.Send(ctx, map[string]any{"type": "time", "client_time": 1}); err != nil {
		t.Fatal(err)
	}
	expectMessage(t, ctx, outside, "time")
}

func TestANodeAtItsCeilingSaysBusyAndServesThoseItHolds(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_MAX_CONNECTIONS": "3", "FOYER_MAX_JOINS_PER_SECOND": "2"})
	saleID := sys.createSale(t, map[string]any{"sku": "D-4", "name": "Busy", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)
	spare, err := client.NewSession(ctx) // for a socket past the ceiling
	if err != nil {
		t.Fatal(err)
	}
	var held []*shopperclient.Conn
	for range 3 {
		conn, _ := connectNew(t, ctx, sys.URL, saleID)
		defer conn.CloseNow()
		expectMessage(t, ctx, conn, "welcome")
		held = append(held, conn)
	}
	// The fourth connection and a new session are refused, with when to
	// come back.
	_, err = client.NewSession(ctx)
	if code, ra := apiCode(err); code != "busy" || ra == "" {
		t.Errorf("a session at the ceiling: %v (Retry-After %q), want busy with Retry-After", err, ra)
	}
	_, err = client.Connect(ctx, saleID, spare)
	if code, _ := apiCode(err); code != "busy" {
		t.Errorf("a fourth socket at a ceiling of three: %v, want busy", err)
	}
	// Joins past two a second are told to retry; nothing enters the queue.
	queue := waitingroom.Keys(saleID).Queue
	for _, conn := range held {
		if err := conn.Join(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var busy shopperclient.Message
	placed := 0
	for _, conn := range held {
		m := expectOneOf(t, ctx, conn, "position", "error")
		if m.Type == "error" {
			busy = m
		} else {
			placed++
		}
	}
	if busy.Code != "busy" || busy.RetryAfter < 1 || placed != 2 {
		t.Fatalf("3 joins against a ceiling of 2 a second: %d placed, refusal %+v; want 2 and busy with retry_after", placed, busy)
	}
	if n := sys.Redis.ZCard(ctx, queue).Val(); n != 2 {
		t.Errorf("%d in the queue, want the 2 joins let through", n)
	}
	// Those it holds are still served: an operator's message reaches them.
	sys.admin(t, http.MethodPost, "/v1/admin/sales/"+saleID+"/messages", map[string]any{"text": "still here"}, http.StatusOK)
	for _, conn := range held {
		for {
			m := expectMessage(t, ctx, conn, "state")
			if m.Message == "still here" {
				break
			}
		}
	}
}

// expectOneOf waits for the next message of one of the types.
func expectOneOf(t *testing.T, ctx context.Context, conn *shopperclient.Conn, types ...string) shopperclient.Message {
	t.Helper()
	for {
		m, err := conn.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %v: %v", types, err)
		}
		if slices.Contains(types, m.Type) {
			return m
		}
	}
}

func TestCheckoutsAreLimitedPerShopperOnceTheTokenVerifies(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_LIMIT_SHOPPER_CHECKOUTS": "1"})
	saleID := sys.createSale(t, map[string]any{"sku": "D-5", "name": "Checkouts", "stock": 5, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := waiting(t, ctx, sys, saleID)
	admitted := expectMessage(t, ctx, conn, "admitted")
	client := shopperclient.New(sys.URL)
	// The checkout of a token the node signed, presented to it for the
	// first time, is not charged; its retries are, a burst of two a shopper:
	// two retries told it was used, then a refusal with when to come back.
	if _, err := client.Checkout(ctx, admitted.CheckoutURL, admitted.Token); err != nil {
		t.Fatal(err)
	}
	for retry := range 2 {
		if _, err := client.Checkout(ctx, admitted.CheckoutURL, admitted.Token); err == nil {
			t.Fatal("a token used twice was accepted")
		} else if code, _ := apiCode(err); code != "token_reused" {
			t.Errorf("retry %d: %v, want token_reused", retry+1, err)
		}
	}
	_, err := client.Checkout(ctx, admitted.CheckoutURL, admitted.Token)
	if code, retryAfter := apiCode(err); code != "rate_limited" || retryAfter == "" {
		t.Errorf("third retry within the second: %v (Retry-After %q), want rate_limited with Retry-After", err, retryAfter)
	}
	// A forged token spends nobody's budget: it is refused for what it is.
	for range 3 {
		_, err := client.Checkout(ctx, admitted.CheckoutURL, "eyJhbGciOiJub25lIn0.e30.")
		if code, _ := apiCode(err); code != "token_invalid" {
			t.Fatalf("forged token: %v, want token_invalid", err)
		}
	}
}

func TestTheGoClientJoinsAgainWhenTheNodeSaysBusy(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_MAX_JOINS_PER_SECOND": "1"})
	saleID := sys.createSale(t, map[string]any{"sku": "D-6", "name": "Rejoin", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Three shoppers join at once against a ceiling of one a second: the
	// ones told busy join again by themselves, after what they were told.
	type outcome struct {
		busy     bool
		position int64
	}
	results := make(chan outcome, 3)
	for range 3 {
		sh := shopperclient.NewShopper([]string{sys.URL}, saleID)
		runShopper(t, ctx, sh)
		if err := sh.Join(ctx); err != nil {
			t.Fatal(err)
		}
		go func() {
			var o outcome
			for m := range sh.Messages() {
				switch {
				case m.Type == "error" && m.Code == "busy":
					o.busy = true
				case m.Type == "error":
					t.Errorf("error %s: %s", m.Code, m.Message)
				case m.Type == "position":
					o.position = m.Position
					results <- o
					return
				}
			}
		}()
	}
	busy, positions := 0, map[int64]bool{}
	for range 3 {
		select {
		case o := <-results:
			if o.busy {
				busy++
			}
			positions[o.position] = true
		case <-ctx.Done():
			t.Fatalf("not every shopper got a place: %v", ctx.Err())
		}
	}
	if busy == 0 || len(positions) != 3 {
		t.Errorf("%d told busy, positions %v; want some told busy and places 1, 2 and 3", busy, positions)
	}
}
