package checkout

// topicGroup is the part of a batch that goes to one topic (one partition of
// a stream), in the batch's order.
type topicGroup[T any] struct {
	topic string
	items []T
}

// byTopic splits a batch by the topic of each item, keeping the order of
// items within a topic and the topics in the order they first appear: a
// batch gathers many sales, and each sale's partition is its own stream.
func byTopic[T any](batch []T, topicOf func(T) string) []topicGroup[T] {
	var groups []topicGroup[T]
	index := map[string]int{}
	for _, item := range batch {
		topic := topicOf(item)
		i, ok := index[topic]
		if !ok {
			i = len(groups)
			index[topic] = i
			groups = append(groups, topicGroup[T]{topic: topic})
		}
		groups[i].items = append(groups[i].items, item)
	}
	return groups
}
