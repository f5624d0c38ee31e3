package orderstream

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/bits"
)

// The order and payment streams are each split into partitions, one Redis
// stream per partition, so that on a Redis Cluster many sales' orders spread
// over the shards instead of all landing on the one that holds a single key.
// A sale's messages always go to the same partition (Partitions.Of), so one
// sale's confirmations stay in order; the order workers read every partition.
const (
	// DefaultPartitions is FOYER_STREAM_PARTITIONS's default: a power of
	// two (the partitions' slots then split evenly over an evenly split
	// cluster: 3, 3 and 2 of them on 3 shards) and few enough that a worker's
	// 2 × 8 + 2 blocking reads fit go-redis's default pool of 10 connections
	// per CPU on a 2-CPU machine.
	DefaultPartitions = 8
	// MaxPartitions bounds the count: every partition costs each worker two
	// blocking reads (orders and payments) and each pipeline view a round
	// trip's worth of XINFO, and 64 shards carrying one Foyer is past any
	// drop this was measured for.
	MaxPartitions = 64
)

// ErrPartitions means a partition count is out of its bounds.
var ErrPartitions = errors.New("stream partitions out of bounds")

// Partitions is how many partitions the streams are split into. Its zero
// value is one partition.
type Partitions struct{ n int }

// NewPartitions returns n partitions, 1 to MaxPartitions.
func NewPartitions(n int) (Partitions, error) {
	if n < 1 || n > MaxPartitions {
		return Partitions{}, fmt.Errorf("%w: %d is not from 1 to %d", ErrPartitions, n, MaxPartitions)
	}
	return Partitions{n: n}, nil
}

// Count is the number of partitions.
func (p Partitions) Count() int { return max(p.n, 1) }

// Of is the partition of a sale's messages: FNV-1a of its id, modulo the
// count. The hash must never change: a gateway of another version would
// send the sale's messages to another partition, still read, but no longer
// in order with the ones before.
func (p Partitions) Of(saleID string) int {
	h := fnv.New32a()
	h.Write([]byte(saleID))
	return int(h.Sum32() % uint32(p.Count()))
}

// Topic is the Watermill topic (the Redis stream) of the sale's messages on s.
func (p Partitions) Topic(s Stream, saleID string) string { return s.Partition(p.Of(saleID)) }

// Stream is one of the partitioned streams.
type Stream struct {
	// name is the single stream of the versions before partitions, and the
	// start of every partition's key.
	name string
}

// The partitioned streams.
var (
	// Orders carries confirmed reservations to the order workers.
	Orders = Stream{name: "foyer.orders.confirmed"}
	// Payments carries payment results from the webhooks to the order
	// workers, so the gateway never waits on Postgres.
	Payments = Stream{name: "foyer.payments.results"}
)

// Partition is the Redis key of partition p (0 ≤ p < MaxPartitions):
// the stream's name and the partition's hash tag, as in
// foyer.orders.confirmed{p3.123}. Both streams of a partition share its tag,
// so they sit on one shard.
func (s Stream) Partition(p int) string { return s.name + "{" + partitionTags[p] + "}" }

// Legacy is the one stream versions before partitions used. Order workers
// still read it, so what a gateway of such a version publishes during an
// upgrade is written.
func (s Stream) Legacy() string { return s.name }

// Topics are the keys of partitions 0 to count-1 and the legacy stream:
// every key of s a reader must look at when count partitions are in use.
func (s Stream) Topics(count int) []string {
	count = min(max(count, 0), MaxPartitions)
	topics := make([]string, 0, count+1)
	for p := range count {
		topics = append(topics, s.Partition(p))
	}
	return append(topics, s.Legacy())
}

// Redis Cluster has 16,384 hash slots; a key's slot is CRC16 of its hash
// tag, modulo that.
const clusterSlots = 16384

// partitionTags are the partitions' hash tags: "p<partition>.<k>", with the
// least k that puts partition i in a slot near target(i). Consecutive tags
// ("p0", "p1", ...) hash to slots that happen to crowd: 8 of them land
// 2, 2 and 4 on the thirds of a 3-shard cluster. The targets spread them
// evenly for every power-of-two count, whatever the count in use: partition
// 0 at slot 0, 1 half-way, 2 and 3 at the quarters, 4 to 7 at the eighths,
// and so on (the bit-reversed partition number, as a fraction of the slots).
// The tags are part of the keys: they must never change.
var partitionTags = func() [MaxPartitions]string {
	var tags [MaxPartitions]string
	const spacing = clusterSlots / MaxPartitions // 256 slots between neighbouring targets
	for i := range tags {
		target := int(bits.Reverse8(uint8(i))>>2) * spacing
		for k := 0; ; k++ {
			tag := fmt.Sprintf("p%d.%d", i, k)
			if slot := int(crc16([]byte(tag))) % clusterSlots; slot >= target && slot < target+spacing/4 {
				tags[i] = tag
				break
			}
		}
	}
	return tags
}()

// crc16 is CRC-16/XMODEM, the checksum Redis Cluster finds a key's slot by.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
