# shellcheck shell=bash
# shellcheck disable=SC2154 # remote and branch are set by the script that sources this file
# Sourced by gitops-commit.sh and gitops-rollback.sh: pushes HEAD to $branch on $remote and
# prints the SHA as it landed; when main moved since the checkout the push is refused, the
# commit is replayed on top and pushed again, three times at most.
#   gitops_push NAME   (NAME prefixes the error message)
gitops_push() {
  for _ in 1 2 3; do
    if git push --quiet "$remote" "HEAD:$branch" >&2; then
      git rev-parse HEAD
      return 0
    fi
    git pull --quiet --rebase "$remote" "$branch" >&2
  done
  echo "$1: $branch kept moving; not pushed after 3 attempts" >&2
  return 1
}
