//! `portcullis run` in a real webview (under its own Xvfb when there is no display):
//! calls (JSON and bytes) are shown as allowed or blocked and echoed, and editing a
//! frontend file reloads the page.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn serves_the_frontend_shows_each_call_and_reloads_on_change() {
    let dir = std::env::temp_dir().join(format!("portcullis-run-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("frontend")).unwrap();
    std::fs::create_dir_all(dir.join("isolation")).unwrap();
    std::fs::write(
        dir.join("portcullis.json"),
        r#"{"build":{"frontendDist":"frontend"},"app":{"security":{"pattern":{"use":"isolation","options":{"dir":"isolation"}},
            "capabilities":[{"identifier":"dev","windows":["main"],"origins":["app://localhost"],
              "commands":{"allow":["greet",{"name":"upload","bytes":true}]}}]}}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("isolation/hook.js"),
        "export default (m) => {\n  if (m.cmd === 'hook.says.no') throw new Error('not here');\n  return m;\n};\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("frontend/index.html"),
        r#"<!doctype html><html><head><script type="module" src="main.js"></script></head><body></body></html>"#,
    )
    .unwrap();
    let script = |n: u32| {
        format!(
            "await window.portcullis.invoke('greet', {{ load: {n} }});\n\
             const echoed = await window.portcullis.invoke('upload', new Uint8Array([1, 2, 3]));\n\
             await window.portcullis.invoke('greet', {{ echoed: Array.from(new Uint8Array(echoed)) }});\n\
             await window.portcullis.invoke('nope').catch(() => {{}});\n\
             await window.portcullis.invoke('hook.says.no').catch(() => {{}});\n"
        )
    };
    std::fs::write(dir.join("frontend/main.js"), script(1)).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("run")
        // No --frontend: the config's build.frontendDist.
        .arg(dir.join("portcullis.json"))
        .args(["--exit-after-secs", "10"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    std::fs::write(dir.join("frontend/main.js"), script(2)).unwrap();
    let status = child.wait().unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    assert!(status.success(), "{status}\n{out}");
    assert!(out.contains(r#"allowed greet (main): {"load":1}"#), "{out}");
    // Binary arguments are echoed as they came, and shown.
    assert!(out.contains("allowed upload (main): 3 bytes"), "{out}");
    assert!(out.contains(r#"{"echoed":[1,2,3]}"#), "{out}");
    assert!(out.contains("blocked nope E_NOT_ALLOWED"), "{out}");
    // Refused by the hook, in the isolation frame: reported to the core, shown too.
    assert!(
        out.contains("blocked hook.says.no E_HOOK_REJECTED"),
        "{out}"
    );
    assert!(
        out.contains("changed:") && out.contains("reloading"),
        "{out}"
    );
    assert!(
        out.contains(r#"allowed greet (main): {"load":2}"#),
        "the reloaded page ran:\n{out}"
    );
}

#[test]
fn without_a_frontend_it_says_where_to_name_one() {
    let dir = std::env::temp_dir().join(format!("portcullis-run-none-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("isolation")).unwrap();
    std::fs::write(dir.join("isolation/hook.js"), "export default (m) => m;\n").unwrap();
    std::fs::write(
        dir.join("portcullis.json"),
        r#"{"app":{"security":{"pattern":{"use":"isolation","options":{"dir":"isolation"}}}}}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("run")
        .arg(dir.join("portcullis.json"))
        .args(["--exit-after-secs", "5"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("no frontend: pass --frontend DIR, or name build.frontendDist"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
