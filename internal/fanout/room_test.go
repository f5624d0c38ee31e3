package fanout

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// TestPlacingAShopperAdmittedBeforeItsTabCameInAsksForItsReservation: a new
// shopper joins before its connection enters the room, so the admitted
// event can come between the two and tell none of its tabs. place must say
// so, for the caller to look the reservation up; a tab the event did tell
// needs nothing more.
func TestPlacingAShopperAdmittedBeforeItsTabCameInAsksForItsReservation(t *testing.T) {
	r := &Room{shoppers: map[string][]*Conn{}, positions: waitingroom.NewPositions(waitingroom.View{Mark: 5})}
	late := &Conn{shopper: "late", status: connIdle}
	r.shoppers["late"] = []*Conn{late}
	if r.Place("late", 3, 1, nil, "") {
		t.Error("a tab that missed its admission was taken for told")
	}
	told := &Conn{shopper: "told", status: connAdmitted, reservation: "r_x_3"}
	r.shoppers["told"] = []*Conn{told}
	if !r.Place("told", 3, 1, nil, "") {
		t.Error("a tab the admitted event told asks for its reservation again")
	}
	if told.status != connAdmitted || late.status != connIdle {
		t.Error("placing a ticket already admitted changed a tab")
	}
}

// TestARoomRetellsTheStateToATabThatCameInAfterItChanged: the room tells
// changes, so a tab whose welcome was made from a status read just before
// the sale sold out would go on waiting in a sold-out sale. The next push
// tells it the state and that it lost out; a tab that heard the change is
// told nothing again.
func TestARoomRetellsTheStateToATabThatCameInAfterItChanged(t *testing.T) {
	r := &Room{conns: map[*Conn]struct{}{}, shoppers: map[string][]*Conn{},
		positions: waitingroom.NewPositions(waitingroom.View{}), state: waitingroom.StateSoldOut}
	late := &Conn{shopper: "late", status: connWaiting, ticket: 7, told: waitingroom.StateOpen, writing: true}
	heard := &Conn{shopper: "heard", status: connIdle, told: waitingroom.StateSoldOut, writing: true}
	for _, c := range []*Conn{late, heard} {
		r.conns[c] = struct{}{}
		r.shoppers[c.shopper] = []*Conn{c}
	}
	r.stock = StockMsg{Type: wire.MsgStock, Total: 10, Sold: 10}
	r.push(waitingroom.Status{State: waitingroom.StateSoldOut, Stock: 10, Sold: 10})

	if got := types(t, late.queue); !slices.Equal(got, []string{wire.MsgState, wire.MsgSoldOut}) {
		t.Errorf("the late tab was told %v, want the state then sold_out", got)
	}
	if late.status != connIdle || late.told != waitingroom.StateSoldOut {
		t.Errorf("the late tab is %v, told %s", late.status, late.told)
	}
	if len(heard.queue) != 0 {
		t.Errorf("a tab that heard the change was told %v again", types(t, heard.queue))
	}
}

func types(t *testing.T, msgs [][]byte) []string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		var v struct{ Type string }
		if err := json.Unmarshal(m, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.Type)
	}
	return out
}

// TestATabToldItsReservationWhileItsJoinWasAnsweredIsNotToldItTwice: a join
// reaches the queue, and before its answer is shown the admitter lets the
// shopper out and the admitted event tells the tab. The join's answer is
// that message: telling it again (a second token for the same hold) made a
// client check out twice and be refused token_reused (seen in CI). A tab
// that knew the reservation before it asked is answered with it again.
func TestATabToldItsReservationWhileItsJoinWasAnsweredIsNotToldItTwice(t *testing.T) {
	r := bareRoom(t)
	tab := r.heldTab("v_race", connIdle)
	knew := r.Asking(tab)
	res := waitingroom.Reservation{ID: "r_bare_1", Shopper: "v_race", Ticket: 1, Status: "held"}
	r.admitted(waitingroom.Event{Type: waitingroom.EventAdmitted, Mark: 1, Admitted: []waitingroom.Reservation{res}})
	if got := types(t, tab.queue); !slices.Equal(got, []string{wire.MsgAdmitted}) {
		t.Fatalf("the admitted event told the tab %v", got)
	}
	if !r.Place("v_race", 1, 1, tab, knew) {
		t.Error("placing the join's ticket asks for a reservation the tab was told since it asked")
	}
	r.Reservation("v_race", res, tab, knew, OrderNow{})
	if got := types(t, tab.queue); len(got) != 1 {
		t.Errorf("the tab was told %v: its join's answer twice", got)
	}

	// It asks again (a resume): it knew the reservation, so it is answered.
	knew = r.Asking(tab)
	if r.Place("v_race", 1, 1, tab, knew) {
		t.Error("a tab asking where it stands was taken for answered")
	}
	r.Reservation("v_race", res, tab, knew, OrderNow{})
	if got := types(t, tab.queue); !slices.Equal(got, []string{wire.MsgAdmitted, wire.MsgAdmitted}) {
		t.Errorf("a resume was answered with %v after the first admitted, want admitted again", got[1:])
	}
}

// TestATicksStockAndPositionLeaveTogether: a tick that tells the stock
// and a waiting shopper's new position gathers both on the connection before
// a writer may take it, so they go in one write (a writer taking the stock
// alone made the position a system call of its own); and it lets them go,
// the connection in line for a writer once, with both queued.
func TestATicksStockAndPositionLeaveTogether(t *testing.T) {
	r := bareRoom(t)
	pool := newWritePool(1) // never started: what is scheduled stays in line
	waiting := &Conn{shopper: "v_w", status: connWaiting, ticket: 5, writers: pool, metrics: r.h.metrics, told: r.state}
	r.conns[waiting] = struct{}{}
	r.shoppers["v_w"] = []*Conn{waiting}

	waiting.Gather()
	waiting.Enqueue([]byte(`{"type":"stock"}`))
	if len(pool.ready)+len(pool.news) != 0 {
		t.Fatal("a gathering connection was handed to a writer")
	}
	waiting.Send()
	if len(pool.news) != 1 {
		t.Fatalf("sent: %d in the news line, want 1", len(pool.news))
	}
	pool.news, waiting.queue, waiting.news, waiting.entries, waiting.inNews = nil, nil, 0, 0, false

	r.push(waitingroom.Status{State: waitingroom.StateOpen, Stock: 10, Available: 9, Waiting: 5})
	if got := types(t, waiting.queue); !slices.Equal(got, []string{wire.MsgStock, wire.MsgPosition}) {
		t.Errorf("the tick queued %v, want stock then position", got)
	}
	if len(pool.ready) != 1 || pool.ready[0] != waiting || waiting.gathering {
		t.Errorf("after the tick: %d in line, gathering %v; want the connection once, let go", len(pool.ready), waiting.gathering)
	}
}

// orderEvent applies an order event of reservation to the room.
func (r *Room) orderEvent(shopper, reservation, status string) {
	r.apply(waitingroom.Event{Type: waitingroom.EventOrder,
		Order: &waitingroom.OrderEvent{Shopper: shopper, Reservation: reservation, OrderID: 7, Status: status}})
}

// statuses lists the order statuses a tab was told.
func statuses(t *testing.T, msgs [][]byte) []string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		var v struct{ Type, Status string }
		if err := json.Unmarshal(m, &v); err != nil {
			t.Fatal(err)
		}
		if v.Type == wire.MsgOrder {
			out = append(out, v.Status)
		}
	}
	return out
}

// TestATabWhoseOrderWasCancelledIsShownItsPlaceWhenItJoinsAgain: the order
// event left every tab "ordered" whatever it said, and an ordered tab is
// shown no position, so a shopper whose payment timed out joined again on
// the same page and heard nothing until admitted (a review found it).
func TestATabWhoseOrderWasCancelledIsShownItsPlaceWhenItJoinsAgain(t *testing.T) {
	r := bareRoom(t)
	tab := r.heldTab("v_again", connAdmitted)
	tab.reservation = "r_1"
	r.orderEvent("v_again", "r_1", "pending_payment")
	r.orderEvent("v_again", "r_1", "cancelled")
	tab.queue = nil
	if !r.Place("v_again", 3, 2, tab, r.Asking(tab)) {
		t.Fatal("the rejoining tab's place was taken for admitted")
	}
	if got := types(t, tab.queue); !slices.Equal(got, []string{wire.MsgPosition}) {
		t.Errorf("joining again after a cancelled order, the tab was told %v, want its position", got)
	}
}

// TestLateNewsOfAnEarlierOrderIsNotToldToATabQueuedAgain: a refund of a
// cancelled order's late payment (the worker's, or reconcile's) may come
// after its shopper queued again; telling it took the tab out of the queue
// on the server and on the page.
func TestLateNewsOfAnEarlierOrderIsNotToldToATabQueuedAgain(t *testing.T) {
	r := bareRoom(t)
	tab := r.heldTab("v_late", connAdmitted)
	tab.reservation = "r_1"
	r.orderEvent("v_late", "r_1", "cancelled")
	r.Place("v_late", 3, 2, tab, r.Asking(tab))
	tab.queue = nil
	r.orderEvent("v_late", "r_1", "refunded")
	if len(tab.queue) != 0 || tab.status != connWaiting {
		t.Errorf("a tab queued again was told %v and is %v: an earlier order's news took it out", types(t, tab.queue), tab.status)
	}
	// A tab holding another reservation (a customer may make several
	// orders) is told it, and still holds its own.
	other := r.heldTab("v_late", connAdmitted)
	other.reservation = "r_2"
	r.orderEvent("v_late", "r_1", "refunded")
	if got := statuses(t, other.queue); !slices.Equal(got, []string{"refunded"}) || other.status != connAdmitted || other.reservation != "r_2" {
		t.Errorf("a tab holding r_2 was told %v of r_1 and is %v on %s; want refunded, still admitted on r_2", got, other.status, other.reservation)
	}
}

// TestATabToldItsOrderByAnEventIsAnsweredWhenItAsksAgain: the event set a
// tab ordered without the reservation, so its resume (knowing nothing, as
// far as the room could tell) was answered with nothing.
func TestATabToldItsOrderByAnEventIsAnsweredWhenItAsksAgain(t *testing.T) {
	r := bareRoom(t)
	tab := r.heldTab("v_ask", connIdle)
	r.orderEvent("v_ask", "r_1", "pending_payment")
	knew := r.Asking(tab)
	r.Reservation("v_ask", waitingroom.Reservation{ID: "r_1", Shopper: "v_ask", Status: "confirmed"}, tab, knew,
		OrderNow{ID: 7, Status: "pending_payment"})
	if got := statuses(t, tab.queue); !slices.Equal(got, []string{"pending_payment", "pending_payment"}) {
		t.Errorf("the tab was told %v, want pending_payment, then again in answer", got)
	}
}

// TestAnOrderReadBeforeANewerEventIsNotToldOverIt: a tab's resume reads the
// order from Postgres (pending), the paid event is told meanwhile, then the
// answer comes: it must not show the page the payment form again.
func TestAnOrderReadBeforeANewerEventIsNotToldOverIt(t *testing.T) {
	r := bareRoom(t)
	tab := r.heldTab("v_stale", connAdmitted)
	tab.reservation = "r_1"
	r.orderEvent("v_stale", "r_1", "pending_payment")
	knew := r.Asking(tab)
	r.orderEvent("v_stale", "r_1", "paid") // while the resume read the store
	r.Reservation("v_stale", waitingroom.Reservation{ID: "r_1", Shopper: "v_stale", Status: "confirmed"}, tab, knew,
		OrderNow{ID: 7, Status: "pending_payment"})
	if got := statuses(t, tab.queue); !slices.Equal(got, []string{"pending_payment", "paid", "paid"}) {
		t.Errorf("the tab was told %v, want pending_payment, paid, and paid again in answer (never pending after paid)", got)
	}
}

// TestANewReservationsOrderIsToldAfterAnEarlierOrdersEnd: the rank of the
// news last told was kept past its reservation, so a shopper whose first
// order was cancelled, and who joined again and checked out, was never told
// its second order's pending_payment (nor its payment's secret): a lower
// rank than the first order's cancelled (a review found it).
func TestANewReservationsOrderIsToldAfterAnEarlierOrdersEnd(t *testing.T) {
	r := bareRoom(t)
	tab := r.heldTab("v_next", connAdmitted)
	tab.reservation = "r_1"
	r.orderEvent("v_next", "r_1", "cancelled")
	r.Place("v_next", 3, 2, tab, r.Asking(tab))
	r.admitted(waitingroom.Event{Type: waitingroom.EventAdmitted, Mark: 3,
		Admitted: []waitingroom.Reservation{{ID: "r_2", Shopper: "v_next", Ticket: 3, Status: "held"}}})
	tab.queue = nil
	r.orderEvent("v_next", "r_2", "pending_payment")
	if got := statuses(t, tab.queue); !slices.Equal(got, []string{"pending_payment"}) {
		t.Fatalf("the second order's news: %v, want pending_payment", got)
	}
	knew := r.Asking(tab)
	r.Reservation("v_next", waitingroom.Reservation{ID: "r_2", Shopper: "v_next", Status: "confirmed"}, tab, knew,
		OrderNow{ID: 8, Status: "pending_payment"})
	if got := statuses(t, tab.queue); !slices.Equal(got, []string{"pending_payment", "pending_payment"}) {
		t.Errorf("asked again, the tab was told %v, want its second order's pending_payment again", got)
	}
}

// TestABatchOfOrdersTellsEachShopperItsOwn: the worker announces a batch
// of orders in one event; each order is told to its shopper's tabs only,
// and an event of one order, as workers wrote them before, is still told.
func TestABatchOfOrdersTellsEachShopperItsOwn(t *testing.T) {
	r := bareRoom(t)
	a := r.heldTab("v_a", connAdmitted)
	a.reservation = "r_a"
	b := r.heldTab("v_b", connAdmitted)
	b.reservation = "r_b"
	r.apply(waitingroom.Event{Type: waitingroom.EventOrders, Orders: []waitingroom.OrderEvent{
		{Shopper: "v_a", Reservation: "r_a", OrderID: 1, Status: wire.OrderPendingPayment},
		{Shopper: "v_elsewhere", Reservation: "r_x", OrderID: 2, Status: wire.OrderPendingPayment},
		{Shopper: "v_b", Reservation: "r_b", OrderID: 3, Status: wire.OrderPaid},
	}})
	r.orderEvent("v_a", "r_a", wire.OrderPaid) // the single-order event
	if got := statuses(t, a.queue); !slices.Equal(got, []string{wire.OrderPendingPayment, wire.OrderPaid}) {
		t.Errorf("v_a was told %v, want pending_payment then paid", got)
	}
	if got := statuses(t, b.queue); !slices.Equal(got, []string{wire.OrderPaid}) {
		t.Errorf("v_b was told %v, want paid", got)
	}
}
