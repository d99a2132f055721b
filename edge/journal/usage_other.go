//go:build !unix

package journal

import "os"

// allocated returns fi's size: this platform gives no block count.
func allocated(fi os.FileInfo) int64 { return fi.Size() }
