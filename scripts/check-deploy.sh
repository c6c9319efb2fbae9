#!/usr/bin/env bash
# Deploys to a local file repository (target/deploy-repo) and checks that it holds what Maven Central
# requires of a release: the pom with name, description, url, licence, developer and scm; the main jar,
# -sources.jar, -javadoc.jar and one classifier jar per native/<platform>/ library in the main jar; an
# .md5 and a .sha1 beside each, matching its content; maven-metadata.xml with its checksums.
# Signatures (.asc) are made at release time with the release key and are not checked here.
# Run from .ci/run after `mvn -B verify` (the tests are not run again); `--no-deploy` checks an
# existing target/deploy-repo.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
repo="$root/target/deploy-repo"
if [[ "${1:-}" != "--no-deploy" ]]; then
    rm -rf "$repo"
    (cd "$root" && mvn -B -q deploy -DskipTests -DaltDeploymentRepository="local::file://$repo")
fi
failures=0
fail() { echo "check-deploy: FAIL: $*" >&2; failures=$((failures + 1)); }

version="$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' "$root/pom.xml" | head -1)"
artifact_dir="$repo/dev/wscrt/wscrt"
dir="$artifact_dir/$version"
[[ -d "$dir" ]] || { echo "check-deploy: nothing deployed at $dir" >&2; exit 1; }

# A release is named wscrt-<version>; a snapshot wscrt-<version minus -SNAPSHOT>-<timestamp>-<build>.
pom="$(ls "$dir"/wscrt-*.pom | sort | tail -1)"
base="${pom%.pom}"

check_sums() { # file
    local file="$1" kind sum
    [[ -f "$file" ]] || { fail "missing ${file#"$repo"/}"; return; }
    for kind in md5 sha1; do
        if [[ ! -f "$file.$kind" ]]; then
            fail "missing ${file#"$repo"/}.$kind"
            continue
        fi
        sum="$("${kind}sum" "$file" | cut -d' ' -f1)"
        [[ "$(tr -d ' \n' <"$file.$kind")" == "$sum" ]] || fail "${file#"$repo"/}.$kind does not match its file"
    done
}

check_sums "$pom"
for element in name description url licenses/license/name licenses/license/url developers/developer/name \
        scm/url scm/connection scm/developerConnection issueManagement/url; do
    tag="${element##*/}"
    grep -q "<$tag>[^<]" "$pom" || fail "the pom has no $element"
done
check_sums "$base.jar"
check_sums "$base-sources.jar"
check_sums "$base-javadoc.jar"
platforms="$(unzip -Z1 "$base.jar" | sed -n 's:^native/\([^/]*\)/libwscrt-jni\.so$:\1:p')"
[[ -n "$platforms" ]] || fail "the main jar holds no native library"
for platform in $platforms; do
    check_sums "$base-$platform.jar"
done
check_sums "$artifact_dir/maven-metadata.xml"
if [[ "$version" == *-SNAPSHOT ]]; then
    check_sums "$dir/maven-metadata.xml"
fi

if (( failures )); then
    echo "check-deploy: $failures failure(s) in $repo" >&2
    exit 1
fi
echo "check-deploy: OK: ${base#"$repo"/}{.pom,.jar,-sources.jar,-javadoc.jar$(printf ',-%s.jar' $platforms)} with .md5 and .sha1"
