package waitingroom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// An event's products live in its meta hash, beside the pool's counters, so
// every script of the sale still touches the same keys in one hash slot:
// "products" holds their SKUs in order (a JSON array; absent in a
// single-product sale), and per product p:<sku>:stock, :left (stock less
// sold: a hold is of the event, never of a product), :sold, :price and
// :limit. The pool keeps its identity available = Σ left − held
// (docs/products.md). What a page shows of each product and never changes
// while the event runs (name, prices, limit, image, description) is one
// JSON field, product_info, read for a welcome or a sale's status but not
// by a room's once-a-second push.

// metaProducts is the meta field listing an event's SKUs; metaProductInfo
// the one describing its products, in the same order.
const (
	metaProducts    = "products"
	metaProductInfo = "product_info"
)

// productField is the meta field of one figure of an event's product.
func productField(sku, figure string) string { return "p:" + sku + ":" + figure }

// ProductCounts are the meta fields, alternating with their values, that
// set an event's product's live counts to sold of stock: what foyer
// reconcile --repair writes from Postgres's orders, as confirm.lua and
// refund.lua would have left them.
func ProductCounts(sku string, stock, sold int64) []any {
	return []any{productField(sku, "stock"), stock, productField(sku, "sold"), sold,
		productField(sku, "left"), max(stock-sold, 0)}
}

// ProductCountFields are the meta fields of an event's product's stock,
// left and sold, in that order: what foyer reconcile and the operators'
// live numbers (internal/livestats) read beside the pool's counters.
func ProductCountFields(sku string) []string {
	return []string{productField(sku, "stock"), productField(sku, "left"), productField(sku, "sold")}
}

// BoughtOfProduct is the field of the sale's Bought hash counting the units
// of an event's product a shopper bought, for the product's limit.
func BoughtOfProduct(shopperID, sku string) string { return shopperID + ":p:" + sku }

// productLoadArgs are the meta fields a new event's products start with,
// alternating field and value, for load.lua; nil for a single-product sale.
func productLoadArgs(p *Plan) ([]any, error) {
	if !p.IsEvent() {
		return nil, nil
	}
	skus := make([]string, len(p.Products))
	info := make([]ProductStatus, len(p.Products))
	args := make([]any, 0, 4+10*len(p.Products))
	for i, pr := range p.Products {
		skus[i] = pr.SKU
		info[i] = ProductStatus{SKU: pr.SKU, Name: pr.Name, PriceCents: pr.PriceCents, ListPriceCents: pr.ListPriceCents,
			PerShopperLimit: pr.PerShopperLimit, ImageURL: pr.ImageURL, Description: pr.Description}
		args = append(args,
			productField(pr.SKU, "stock"), pr.Stock, productField(pr.SKU, "left"), pr.Stock,
			productField(pr.SKU, "sold"), 0, productField(pr.SKU, "price"), pr.PriceCents,
			productField(pr.SKU, "limit"), pr.PerShopperLimit)
	}
	list, err := json.Marshal(skus)
	if err != nil {
		return nil, fmt.Errorf("encode products of sale %s: %w", p.ID, err)
	}
	shown, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("encode products of sale %s: %w", p.ID, err)
	}
	return append(args, metaProducts, string(list), metaProductInfo, string(shown)), nil
}

// ProductStatus is one product of an event as Redis has it: its live
// figures, and, when read for a page (Rooms.StatusShown), what the page
// shows of it.
type ProductStatus struct {
	SKU             string `json:"sku"`
	Name            string `json:"name,omitempty"`
	PriceCents      int64  `json:"price_cents,omitempty"`
	ListPriceCents  int64  `json:"list_price_cents,omitempty"`
	PerShopperLimit int    `json:"per_shopper_limit,omitempty"`
	ImageURL        string `json:"image_url,omitempty"`
	Description     string `json:"description,omitempty"`
	Stock           int64  `json:"-"`
	Left            int64  `json:"-"` // not sold: what shoppers may still choose
	Sold            int64  `json:"-"`
}

// productSKUs reads the meta field listing an event's SKUs; nil for a
// single-product sale (the field absent).
func productSKUs(raw any) ([]string, error) {
	s, ok := raw.(string)
	if !ok || s == "" {
		return nil, nil
	}
	var skus []string
	if err := json.Unmarshal([]byte(s), &skus); err != nil {
		return nil, fmt.Errorf("decode products: %w", err)
	}
	return skus, nil
}

// StatusShown is Status with what a page shows of an event's products
// (names, prices, images...), for a welcome or a sale's public status.
func (r *Rooms) StatusShown(ctx context.Context, saleID string) (Status, error) {
	st, err := r.Status(ctx, saleID)
	if err != nil || st.Products == nil {
		return st, err
	}
	return st, r.showProducts(ctx, &st)
}

// showProducts adds to an event's status what a page shows of its products.
func (r *Rooms) showProducts(ctx context.Context, st *Status) error {
	raw, err := r.rdb.HGet(ctx, Keys(st.SaleID).Meta, metaProductInfo).Bytes()
	if err != nil {
		return fmt.Errorf("read products of sale %s: %w", st.SaleID, err)
	}
	var info []ProductStatus
	if err := json.Unmarshal(raw, &info); err != nil || len(info) != len(st.Products) {
		return fmt.Errorf("decode products of sale %s: %d of %d (%v)", st.SaleID, len(info), len(st.Products), err)
	}
	for i := range info {
		info[i].Stock, info[i].Left, info[i].Sold = st.Products[i].Stock, st.Products[i].Left, st.Products[i].Sold
	}
	st.Products = info
	return nil
}

// fillProducts reads the products' figures of the event statuses among sts
// in one round trip; a single-product sale's status costs nothing here.
func (r *Rooms) fillProducts(ctx context.Context, sts ...*Status) error {
	reads := make([]*redis.SliceCmd, len(sts))
	events := 0
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, st := range sts {
			if len(st.productSKUs) == 0 {
				continue
			}
			events++
			fields := make([]string, 0, 3*len(st.productSKUs))
			for _, sku := range st.productSKUs {
				fields = append(fields, productField(sku, "stock"), productField(sku, "left"), productField(sku, "sold"))
			}
			reads[i] = p.HMGet(ctx, Keys(st.SaleID).Meta, fields...)
		}
		return nil
	})
	if events == 0 {
		return nil
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("read products of %d events: %w", events, err)
	}
	for i, st := range sts {
		if reads[i] == nil {
			continue
		}
		v := reads[i].Val()
		num := func(j int) int64 { s, _ := v[j].(string); n, _ := strconv.ParseInt(s, 10, 64); return n }
		st.Products = make([]ProductStatus, len(st.productSKUs))
		for j, sku := range st.productSKUs {
			st.Products[j] = ProductStatus{SKU: sku, Stock: num(3 * j), Left: num(3*j + 1), Sold: num(3*j + 2)}
		}
	}
	return nil
}
