#!/usr/bin/env bash
# CD's GitOps commit: commits FILE... with MESSAGE and pushes it to main, then prints the
# SHA of the commit as it landed on main — or nothing at all when the files did not
# change, so a later rollback knows this run made no commit it could revert.
#
#   deploy/cd/gitops-commit.sh MESSAGE FILE...
#
# The message gets "[skip ci]": pushed with a personal token, the commit would otherwise
# start CI, CI's success CD, and CD would push again (a loop). When main moved since the
# checkout the push is refused; the commit is replayed on top and pushed again.
# GITOPS_REMOTE (origin) and GITOPS_BRANCH (main) name where it goes.
set -euo pipefail
# shellcheck source=deploy/cd/gitops-push.sh
source "$(dirname "${BASH_SOURCE[0]}")/gitops-push.sh"

remote=${GITOPS_REMOTE:-origin}
branch=${GITOPS_BRANCH:-main}
message=$1
shift
(($# > 0)) || { echo "usage: gitops-commit.sh MESSAGE FILE..." >&2; exit 2; }

git diff --quiet -- "$@" && exit 0
git commit --quiet -m "$message [skip ci]" -- "$@" >&2
gitops_push gitops-commit
