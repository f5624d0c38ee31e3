package orderstream

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestAPartitionCountOutsideOneToSixtyFourIsRefused(t *testing.T) {
	for _, n := range []int{0, -1, MaxPartitions + 1, 1000} {
		if p, err := NewPartitions(n); !errors.Is(err, ErrPartitions) || !strings.Contains(err.Error(), "from 1 to 64") {
			t.Errorf("NewPartitions(%d) = %+v, %v; want ErrPartitions naming the bounds", n, p, err)
		}
	}
	for _, n := range []int{1, DefaultPartitions, MaxPartitions} {
		if p, err := NewPartitions(n); err != nil || p.Count() != n {
			t.Errorf("NewPartitions(%d) = %+v, %v", n, p, err)
		}
	}
	if (Partitions{}).Count() != 1 || (Partitions{}).Of("any") != 0 {
		t.Error("the zero Partitions is not one partition")
	}
}

// A sale's messages go to one partition, the same on every node and in every
// version: the partition is part of what keeps a sale's orders in order.
func TestASalesMessagesAlwaysGoToTheSamePartitionAndManySalesSpreadOverAll(t *testing.T) {
	p, _ := NewPartitions(DefaultPartitions)
	// FNV-1a of the id, modulo the count: pinned, as nodes of different
	// versions must agree.
	for sale, want := range map[string]int{"s_1": 2, "s_2": 7, "sale-a": 0, "01JEXAMPLE": 6} {
		if got := p.Of(sale); got != want {
			t.Errorf("Of(%q) = %d, want %d", sale, got, want)
		}
	}
	counts := make([]int, p.Count())
	const sales = 800
	for i := range sales {
		counts[p.Of(fmt.Sprintf("s_%d", i))]++
	}
	for part, n := range counts {
		// 100 a partition on average; a hash that left one far behind
		// would leave its shard idle.
		if n < 60 || n > 140 {
			t.Errorf("partition %d has %d of %d sales: %v", part, n, sales, counts)
		}
	}
	if got := p.Topic(Orders, "s_1"); got != Orders.Partition(2) {
		t.Errorf("Topic(Orders, s_1) = %s, want partition 2's key", got)
	}
}

// The keys are what gateways of one version write and workers of another
// read: they must never change.
func TestThePartitionsKeysKeepTheirNames(t *testing.T) {
	want := []string{
		"foyer.orders.confirmed{p0.",
		"foyer.orders.confirmed{p1.",
		"foyer.orders.confirmed{p2.",
	}
	for i, prefix := range want {
		if got := Orders.Partition(i); !strings.HasPrefix(got, prefix) || !strings.HasSuffix(got, "}") {
			t.Errorf("partition %d: %s, want %s<k>}", i, got, prefix)
		}
	}
	pinned := map[int]string{0: "p0.239", 1: "p1.443", 2: "p2.19", 7: "p7.21", 63: "p63.155"}
	for i, tag := range pinned {
		if partitionTags[i] != tag {
			t.Errorf("partition %d's tag is %s, was %s: the keys changed", i, partitionTags[i], tag)
		}
	}
	if Payments.Partition(3) != "foyer.payments.results{"+partitionTags[3]+"}" {
		t.Errorf("payments partition 3 is %s: not the orders partition's tag", Payments.Partition(3))
	}
	if Orders.Legacy() != "foyer.orders.confirmed" || Payments.Legacy() != "foyer.payments.results" {
		t.Errorf("the legacy streams are %s and %s, not the names of before", Orders.Legacy(), Payments.Legacy())
	}
	topics := Orders.Topics(3)
	if len(topics) != 4 || topics[0] != Orders.Partition(0) || topics[2] != Orders.Partition(2) || topics[3] != Orders.Legacy() {
		t.Errorf("Topics(3) = %v, want partitions 0 to 2 and the legacy stream", topics)
	}
}

// slotOf is the Redis Cluster slot of a key: CRC16 of its hash tag.
func slotOf(key string) int {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if end := strings.IndexByte(key[open+1:], '}'); end > 0 {
			key = key[open+1 : open+1+end]
		}
	}
	return int(crc16([]byte(key))) % clusterSlots
}

func TestCRC16IsTheOneRedisClusterHashesKeysWith(t *testing.T) {
	// The check value of CRC-16/XMODEM, which the Redis Cluster
	// specification gives for its key hashing.
	if got := crc16([]byte("123456789")); got != 0x31C3 {
		t.Errorf("crc16(123456789) = %#x, want 0x31c3", got)
	}
}

// On an evenly split cluster the partitions' slots spread over the shards
// as evenly as a count allows, for every power of two up to the bound.
func TestThePartitionsSpreadEvenlyOverTheShardsOfACluster(t *testing.T) {
	for _, shards := range []int{2, 3, 4, 6} {
		for count := 1; count <= MaxPartitions; count *= 2 {
			per := make([]int, shards)
			for i := range count {
				// redis-cli --cluster create splits the slots evenly, in order.
				per[slotOf(Orders.Partition(i))*shards/clusterSlots]++
			}
			lo, hi := count/shards, (count+shards-1)/shards
			for shard, n := range per {
				// A shard's slots run out of a target by less than the
				// window a tag may land in, so one more or fewer than even.
				if n < lo-1 || n > hi+1 {
					t.Errorf("%d partitions on %d shards: shard %d has %d (%v)", count, shards, shard, n, per)
				}
			}
		}
	}
	// The default on the 3 shards of the tests' cluster: 3, 3 and 2.
	per := make([]int, 3)
	for i := range DefaultPartitions {
		per[slotOf(Orders.Partition(i))*3/clusterSlots]++
	}
	if fmt.Sprint(per) != "[3 3 2]" {
		t.Errorf("the default partitions on 3 shards: %v, want [3 3 2]", per)
	}
	seen := map[int]int{}
	for i := range MaxPartitions {
		s := slotOf(Orders.Partition(i))
		if j, ok := seen[s]; ok {
			t.Errorf("partitions %d and %d share slot %d", j, i, s)
		}
		seen[s] = i
		if slotOf(Payments.Partition(i)) != s {
			t.Errorf("partition %d: its payments stream is in another slot than its orders", i)
		}
	}
}
