/**
 * Dinic's maximum flow on integer capacities, with typed arrays and an iterative search (residual paths
 * can be long). Capacities may be raised between runs and the flow continues from where it stood.
 */
export class FlowNetwork {
  private head: Int32Array;
  private to: number[] = [];
  private next: number[] = [];
  private cap: number[] = [];
  private level: Int32Array;
  private arc: Int32Array;

  constructor(readonly nodes: number) {
    this.head = new Int32Array(nodes).fill(-1);
    this.level = new Int32Array(nodes);
    this.arc = new Int32Array(nodes);
  }

  /** Adds an edge and its reverse; returns the forward edge's index. */
  addEdge(from: number, to: number, capacity: number): number {
    const e = this.to.length;
    this.to.push(to, from);
    this.cap.push(capacity, 0);
    this.next.push(this.head[from]!, this.head[to]!);
    this.head[from] = e;
    this.head[to] = e + 1;
    return e;
  }

  /** Flow on a forward edge. */
  flow(edge: number): number {
    return this.cap[edge ^ 1]!;
  }

  raiseCapacity(edge: number, by: number): void {
    this.cap[edge] = this.cap[edge]! + by;
  }

  forEachEdge(from: number, visit: (edge: number, to: number) => void): void {
    for (let e = this.head[from]!; e !== -1; e = this.next[e]!) if ((e & 1) === 0) visit(e, this.to[e]!);
  }

  /** Pushes as much additional flow as the residual network allows; returns the amount pushed. */
  maxFlow(source: number, sink: number): number {
    let total = 0;
    while (this.bfs(source, sink)) {
      this.arc.set(this.head);
      for (;;) {
        const pushed = this.augment(source, sink);
        if (pushed === 0) break;
        total += pushed;
      }
    }
    return total;
  }

  /** Nodes reachable from `source` in the residual network (the source side of a minimum cut). */
  reachable(source: number): Uint8Array {
    const seen = new Uint8Array(this.nodes);
    const queue = [source];
    seen[source] = 1;
    while (queue.length > 0) {
      const v = queue.pop()!;
      for (let e = this.head[v]!; e !== -1; e = this.next[e]!) {
        const w = this.to[e]!;
        if (this.cap[e]! > 0 && !seen[w]) {
          seen[w] = 1;
          queue.push(w);
        }
      }
    }
    return seen;
  }

  private bfs(source: number, sink: number): boolean {
    this.level.fill(-1);
    this.level[source] = 0;
    const queue = new Int32Array(this.nodes);
    let qh = 0;
    let qt = 0;
    queue[qt++] = source;
    while (qh < qt) {
      const v = queue[qh++]!;
      for (let e = this.head[v]!; e !== -1; e = this.next[e]!) {
        const w = this.to[e]!;
        if (this.cap[e]! > 0 && this.level[w] === -1) {
          this.level[w] = this.level[v]! + 1;
          queue[qt++] = w;
        }
      }
    }
    return this.level[sink] !== -1;
  }

  /** One augmenting path in the level graph (iterative DFS with current-arc pointers). */
  private augment(source: number, sink: number): number {
    const pathEdges: number[] = [];
    let v = source;
    for (;;) {
      if (v === sink) {
        let bottleneck = Infinity;
        for (const e of pathEdges) bottleneck = Math.min(bottleneck, this.cap[e]!);
        for (const e of pathEdges) {
          this.cap[e] = this.cap[e]! - bottleneck;
          this.cap[e ^ 1] = this.cap[e ^ 1]! + bottleneck;
        }
        return bottleneck;
      }
      let advanced = false;
      for (let e = this.arc[v]!; e !== -1; e = this.next[e]!) {
        const w = this.to[e]!;
        if (this.cap[e]! > 0 && this.level[w] === this.level[v]! + 1) {
          this.arc[v] = e;
          pathEdges.push(e);
          v = w;
          advanced = true;
          break;
        }
      }
      if (advanced) continue;
      // Dead end: never come back to this node in this phase; retreat one step.
      this.level[v] = -1;
      this.arc[v] = -1;
      if (pathEdges.length === 0) return 0;
      const back = pathEdges.pop()!;
      v = this.to[back ^ 1]!;
      this.arc[v] = this.next[this.arc[v]!]!;
    }
  }
}
