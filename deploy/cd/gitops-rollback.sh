#!/usr/bin/env bash
# CD's rollback: reverts the commits this run pushed — those and nothing else — in one
# commit on main, and prints its SHA; prints nothing when the run pushed no commit (its
# tag bump and pin changed nothing, so nothing of its own is there to take back).
#
#   deploy/cd/gitops-rollback.sh ENVIRONMENT [SHA...]   newest first; empty arguments ignored
#
# Each SHA must be on main and made by the same committer as this checkout's (the CD
# bot): main's head may be anyone's commit, and reverting it would undo someone's work.
set -euo pipefail
# shellcheck source=deploy/cd/gitops-push.sh
source "$(dirname "${BASH_SOURCE[0]}")/gitops-push.sh"

remote=${GITOPS_REMOTE:-origin}
branch=${GITOPS_BRANCH:-main}
environment=$1
shift
commits=()
for sha in "$@"; do [[ -n $sha ]] && commits+=("$sha"); done
if ((${#commits[@]} == 0)); then
  echo "gitops-rollback: this run pushed no commit to $branch; nothing to revert" >&2
  exit 0
fi

git pull --quiet --rebase "$remote" "$branch" >&2
bot=$(git config user.email)
for sha in "${commits[@]}"; do
  git merge-base --is-ancestor "$sha" HEAD || { echo "gitops-rollback: $sha is not on $branch" >&2; exit 1; }
  author=$(git log -1 --format=%ae "$sha")
  [[ $author == "$bot" ]] || { echo "gitops-rollback: $sha is $author's, not this workflow's ($bot)" >&2; exit 1; }
done
git revert --no-commit "${commits[@]}" >&2
git commit --quiet -m "rollback($environment): revert ${commits[*]} [skip ci]" >&2
gitops_push gitops-rollback
