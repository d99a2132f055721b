package cloud_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/comptoir/comptoir/cloud"
)

type testWrite struct {
	n, bad    int
	committed bool
}

// TestGroupCommit: writes from many callers are committed, those the
// commit refuses fail alone (the group is split around them), and a write
// after Close gets ErrStoreClosed; Close may be called twice.
//
// It runs in a synctest bubble: synctest.Wait returns once every caller is
// blocked on the queue, where a sleep used to give them time to get there.
func TestGroupCommit(t *testing.T) {
	synctest.Test(t, testGroupCommit)
}

func testGroupCommit(t *testing.T) {
	var mu sync.Mutex
	groups := 0
	entered, release := make(chan struct{}), make(chan struct{})
	var first sync.Once
	g := cloud.NewGroupCommit(1, 10, func(w *testWrite) int { return w.n }, func(ws []*testWrite) error {
		// The first commit waits until every other caller is queued, so
		// that the next groups gather several writes, bad ones among them.
		first.Do(func() { close(entered); <-release })
		for _, w := range ws {
			if w.bad != 0 {
				return errors.New("refused")
			}
		}
		mu.Lock()
		groups++
		mu.Unlock()
		for _, w := range ws {
			w.committed = true
		}
		return nil
	})
	const callers = 64
	ws := make([]*testWrite, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range ws {
		ws[i] = &testWrite{n: 1 + i%3, bad: boolInt(i%16 == 5)}
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = g.Do(context.Background(), ws[i]) }()
		if i == 0 {
			<-entered
		}
	}
	synctest.Wait() // every caller is blocked on the queue
	close(release)
	wg.Wait()
	for i, w := range ws {
		if bad := w.bad != 0; bad != (errs[i] != nil) || bad == w.committed {
			t.Fatalf("write %d (bad %v): err %v, committed %v", i, bad, errs[i], w.committed)
		}
	}
	t.Logf("%d writes in %d committed groups", callers, groups)
	if groups >= callers-4 {
		t.Fatalf("%d groups for %d writes: none gathered", groups, callers)
	}
	g.Close()
	g.Close()
	if err := g.Do(context.Background(), &testWrite{n: 1}); !errors.Is(err, cloud.ErrStoreClosed) {
		t.Fatalf("after Close: %v, want ErrStoreClosed", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g2 := cloud.NewGroupCommit(1, 1, func(*testWrite) int { return 1 }, func([]*testWrite) error { return nil })
	if err := g2.Do(ctx, &testWrite{}); !errors.Is(err, context.Canceled) && err != nil {
		t.Fatalf("cancelled context: %v", err)
	}
	g2.Close() // the bubble ends only when every goroutine has: no leak
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
