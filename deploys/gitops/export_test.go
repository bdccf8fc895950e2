package gitops

// SetBeforePush makes c run f before every push (tests move the remote under it).
func SetBeforePush(c *Committer, f func(dir string)) { c.beforePush = f }
