package slack

import (
	"strings"

	"github.com/portside-dev/portside/errs"
)

// pipelineHelp is what `/pipeline help` answers.
const pipelineHelp = "Usage:\n" +
	"• `/pipeline run <component> <pipeline> [ref=<branch, tag or SHA>] [<parameter>=<value> …]` starts a pipeline (owners of the component)\n" +
	"• `/pipeline status <component>` lists its latest runs\n" +
	"• `/pipeline help` shows this"

// Bounds of a command: Slack sends at most 4,000 characters of text.
const (
	maxCommandText = 4000
	maxParams      = 50
)

type pipelineCommand struct {
	verb                     string // run, status, help
	component, pipeline, ref string
	params                   map[string]string
}

// parsePipeline reads the text of /pipeline. The errors name the part that is wrong.
func parsePipeline(text string) (pipelineCommand, error) {
	if len(text) > maxCommandText {
		return pipelineCommand{}, errs.InvalidField("text", "has %d characters; at most %d", len(text), maxCommandText)
	}
	f := strings.Fields(text)
	if len(f) == 0 || f[0] == "help" {
		return pipelineCommand{verb: "help"}, nil
	}
	switch f[0] {
	case "run":
		if len(f) < 3 {
			return pipelineCommand{}, errs.InvalidField("text", "`run` needs a component and a pipeline")
		}
		c := pipelineCommand{verb: "run", component: f[1], pipeline: f[2], params: map[string]string{}}
		for _, kv := range f[3:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return pipelineCommand{}, errs.InvalidField("text", "%q is not <parameter>=<value>", kv)
			}
			if k == "ref" {
				c.ref = v
				continue
			}
			if _, dup := c.params[k]; dup {
				return pipelineCommand{}, errs.InvalidField("text", "parameter %s is given twice", k)
			}
			if len(c.params) >= maxParams {
				return pipelineCommand{}, errs.InvalidField("text", "more than %d parameters", maxParams)
			}
			c.params[k] = v
		}
		return c, nil
	case "status":
		if len(f) != 2 {
			return pipelineCommand{}, errs.InvalidField("text", "`status` takes one component")
		}
		return pipelineCommand{verb: "status", component: f[1]}, nil
	default:
		return pipelineCommand{}, errs.InvalidField("text", "Portside does not know `/pipeline %s`", f[0])
	}
}

// deployHelp is what `/deploy help` answers.
const deployHelp = "Usage:\n" +
	"• `/deploy <component> <version> to <environment> [reason]` asks for a deploy (owners of the component); another owner or an admin approves it\n" +
	"• `/deploy status <component>` lists its latest deploy requests\n" +
	"• `/deploy link` links your Slack user to your Portside user (when your Slack address is not your Portside one)\n" +
	"• `/deploy unlink` removes that link (Portside then knows you by your Slack address again)\n" +
	"• `/deploy help` shows this"

type deployCommand struct {
	verb                                    string // request, status, link, unlink, help
	component, version, environment, reason string
}

// parseDeploy reads the text of /deploy. The errors name the part that is wrong. The reason is the
// rest of the line after the environment; the deploys service bounds it (deploys.MaxReason).
func parseDeploy(text string) (deployCommand, error) {
	if len(text) > maxCommandText {
		return deployCommand{}, errs.InvalidField("text", "has %d characters; at most %d", len(text), maxCommandText)
	}
	f := strings.Fields(text)
	if len(f) == 0 || (len(f) == 1 && f[0] == "help") {
		return deployCommand{verb: "help"}, nil
	}
	if len(f) == 1 && (f[0] == "link" || f[0] == "unlink") {
		return deployCommand{verb: f[0]}, nil
	}
	if f[0] == "status" {
		if len(f) != 2 {
			return deployCommand{}, errs.InvalidField("text", "`status` takes one component")
		}
		return deployCommand{verb: "status", component: f[1]}, nil
	}
	switch {
	case len(f) < 2:
		return deployCommand{}, errs.InvalidField("text", "`%s` needs a version: `/deploy <component> <version> to <environment>`", f[0])
	case len(f) < 3 || f[2] != "to":
		return deployCommand{}, errs.InvalidField("text", "the version %q must be followed by `to <environment>`", f[1])
	case len(f) < 4:
		return deployCommand{}, errs.InvalidField("text", "`to` needs an environment")
	}
	return deployCommand{verb: "request", component: f[0], version: f[1], environment: f[3], reason: strings.Join(f[4:], " ")}, nil
}
