package journal

import "time"

// The journal's tables are files that Badger maps into memory and reads in
// place. Each page read stays in the agent's resident memory (RssFile) for
// as long as the table is mapped: a backlog of 100,000 operations, walked
// at open (the shelf), read by the drain and rewritten by the compactions,
// left 27 MB of table pages resident beside the 40 MB of the Go heap and
// runtime (the memory limit's share) and the 15 MB of the binary
// (/proc/PID/smaps at the drain's end, BenchmarkFootprint): the part of
// the backlog's peak that the memory limit does not govern. The pageout
// loop takes those pages out of the agent's memory (pageOutTables) each
// time they have grown by pageOutAbove, so that a bulk read does not make
// them all resident at once. A counter's day leaves about 5 MB: it is
// seldom done, and the hot pages of its lookups stay mapped.
const (
	// pageOutAbove is how much the mapped files may grow the agent's
	// resident memory before the tables' pages are handed back.
	pageOutAbove = 8 << 20
	// pageOutEvery is how often the loop reads the resident memory.
	pageOutEvery = time.Second
)

// pageOutLoop runs from Open until stopPager (Close). It pages the tables
// out whenever the mapped files' resident memory grew by pageOutAbove
// since the last time (or since it started).
func (j *Journal) pageOutLoop() {
	defer close(j.pagerDone)
	base, ok := fileRSS()
	if !ok {
		return
	}
	t := time.NewTicker(pageOutEvery)
	defer t.Stop()
	for {
		select {
		case <-j.pagerStop:
			return
		case <-t.C:
		}
		rss, ok := fileRSS()
		switch {
		case !ok:
			return
		case rss >= base+pageOutAbove:
			base = j.pageOut()
		case rss < base:
			base = rss
		}
	}
}

// pageOut pages out the journal's mapped tables and returns the resident
// memory of mapped files after it.
func (j *Journal) pageOut() int64 {
	if err := j.pageOutTables(); err != nil {
		j.logger.Debug("page out tables", "err", err)
	}
	rss, _ := fileRSS()
	return rss
}

// stopPager ends pageOutLoop and waits for it: the loop pins Badger's
// tables, which must not happen while Badger closes.
func (j *Journal) stopPager() {
	close(j.pagerStop)
	<-j.pagerDone
}
