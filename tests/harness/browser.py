"""What the browser tests of the dashboard and of the report share."""

# Pairs of visible text elements (those `arguments[0]`, a CSS selector, names) whose
# boxes intersect, not one inside the other; and texts wider than their box.
# Run with selenium: driver.execute_script(OVERLAPS_JS, selector) == [].
OVERLAPS_JS = """
const nodes = [...document.querySelectorAll(arguments[0])]
  .filter((n) => n.offsetParent !== null);
const found = [];
for (let i = 0; i < nodes.length; i++) {
  for (let j = i + 1; j < nodes.length; j++) {
    const [a, b] = [nodes[i], nodes[j]];
    if (a.contains(b) || b.contains(a)) continue;
    const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
    if (r.left < s.right - 1 && s.left < r.right - 1
        && r.top < s.bottom - 1 && s.top < r.bottom - 1)
      found.push(a.textContent.trim() + ' / ' + b.textContent.trim());
  }
}
for (const n of nodes) {
  if (n.scrollWidth > n.clientWidth + 1) found.push('overflows: ' + n.textContent.trim());
}
return found;
"""
