const { invoke, listen } = window.portcullis;
const out = document.getElementById("out");
listen("greeted", ({ payload }) => console.log(`the core greeted ${payload}`));
document.getElementById("go").addEventListener("click", async () => {
  try {
    const { text } = await invoke("greet", { name: document.getElementById("name").value });
    out.textContent = text;
  } catch (e) {
    out.textContent = `${e.code}: ${e.message}`;
  }
});
