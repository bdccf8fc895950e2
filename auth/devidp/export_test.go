package devidp

import "time"

// SetClock makes p read the time from now, so that tests can let sign-in requests and tokens
// expire without sleeping.
func SetClock(p *Provider, now func() time.Time) { p.store.setClock(now) }
